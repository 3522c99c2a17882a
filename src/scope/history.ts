/**
 * Forgetting what GitHub told us, once it can no longer matter: jobs, run facts, pushes and
 * webhook delivery ids older than the retention are removed, so these tables do not grow forever.
 *
 * Removing only ever narrows: a runner whose job is forgotten has no job (refused), and a run whose
 * facts are forgotten is asked about again or read-only. The retention outlasts the longest job a
 * self-hosted runner may run (5 days) and GitHub's window for redelivering a webhook (3 days).
 */
import type { Db } from "../db/database.js";
import type { Logger } from "../log.js";

const DAY_MS = 24 * 60 * 60 * 1000;
export const HISTORY_RETENTION_MS = 7 * DAY_MS;

export interface PrunedHistory {
  jobs: number;
  runs: number;
  pushes: number;
  deliveries: number;
}

export async function pruneHistory(db: Db, log: Logger, now = Date.now()): Promise<PrunedHistory> {
  const cutoff = now - HISTORY_RETENTION_MS;
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  const pruned: PrunedHistory = {
    jobs: count(await db.deleteFrom("jobs").where("updated_at", "<", cutoff).executeTakeFirst()),
    runs: count(await db.deleteFrom("runs").where("updated_at", "<", cutoff).executeTakeFirst()),
    pushes: count(
      await db.deleteFrom("pushes").where("received_at", "<", cutoff).executeTakeFirst(),
    ),
    deliveries: count(
      await db
        .deleteFrom("webhook_deliveries")
        .where("received_at", "<", cutoff)
        .executeTakeFirst(),
    ),
  };
  if (Object.values(pruned).some((rows) => rows > 0)) {
    log.info({ event: "history_pruned", ...pruned }, "old GitHub facts removed");
  }
  return pruned;
}
