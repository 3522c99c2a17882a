/**
 * Periodic upkeep: uploads never committed are abandoned after the configured time since their
 * last byte, and their bytes removed. Idempotent, so a pass that dies is simply run again.
 */
import type { Db } from "../db/database.js";
import type { Logger } from "../log.js";
import { entryPrefix, type BlobStore } from "../stores/blob-store.js";

/** Rows handled per pass, so one pass never holds the store for long. */
const BATCH = 500;

export async function expireAbandonedUploads(
  db: Db,
  blobs: BlobStore,
  log: Logger,
  uploadTimeoutSeconds: number,
  now = Date.now(),
): Promise<number> {
  const cutoff = now - uploadTimeoutSeconds * 1000;
  const stale = await db
    .selectFrom("cache_entries")
    .select(["id", "repository", "scope", "key"])
    .where("state", "=", "uploading")
    .where("last_upload_at", "<", cutoff)
    .limit(BATCH)
    .execute();
  let removed = 0;
  for (const entry of stale) {
    // The condition is checked again at delete time: an upload that moved on is kept.
    const result = await db
      .deleteFrom("cache_entries")
      .where("id", "=", entry.id)
      .where("state", "=", "uploading")
      .where("last_upload_at", "<", cutoff)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) continue;
    await blobs.deletePrefix(entryPrefix(Number(entry.id)));
    removed += 1;
    log.info(
      {
        event: "upload_abandoned",
        entryId: entry.id,
        repository: entry.repository,
        scope: entry.scope,
        key: entry.key,
      },
      "abandoned upload removed",
    );
  }
  return removed;
}

/** Runs housekeeping every `intervalSeconds` until stopped; a failed pass is logged, not fatal. */
export function startHousekeeping(
  run: () => Promise<unknown>,
  intervalSeconds: number,
  log: Logger,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    run()
      .catch((error: unknown) =>
        log.error({ err: error, event: "housekeeping_failed" }, "housekeeping pass failed"),
      )
      .finally(() => {
        running = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
