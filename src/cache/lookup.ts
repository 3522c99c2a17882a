/**
 * Finding the entry a restore gets, as GitHub matches keys: for each readable scope in order,
 * the primary key exactly, else the newest entry whose key starts with it, then the same for each
 * restore key. Only committed entries count and the version must match exactly.
 */
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { toEntry, type CacheEntry } from "./entry.js";

export async function findEntry(
  db: Db,
  repository: string,
  scopes: readonly string[],
  keys: readonly string[],
  version: string,
): Promise<CacheEntry | undefined> {
  for (const scope of scopes) {
    const committed = db
      .selectFrom("cache_entries")
      .selectAll()
      .where("repository", "=", repository)
      .where("scope", "=", scope)
      .where("version", "=", version)
      .where("state", "=", "committed");

    const exact = await committed.where("key", "in", keys).execute();
    for (const key of keys) {
      const hit = exact.find((row) => row.key === key);
      if (hit) return toEntry(hit);
      // A plain comparison, not LIKE: `%` and `_` in keys are ordinary characters here.
      // Missing for PostgreSQL: the key column needs COLLATE "C" for `>=` to bound a prefix.
      const newest = await committed
        .where("key", ">=", key)
        .where(sql<string>`substr(${sql.ref("key")}, 1, length(${key}))`, "=", key)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      if (newest) return toEntry(newest);
    }
  }
  return undefined;
}

/** Records a hit, for eviction by last use and for provenance. */
export async function recordAccess(db: Db, entryId: number, runnerId: string): Promise<void> {
  await db
    .updateTable("cache_entries")
    .set({ last_accessed_at: Date.now(), last_accessed_by: runnerId })
    .where("id", "=", entryId)
    .execute();
}

/** Committed entries with exactly this key in the given scopes (the v1 list call). */
export async function listByKey(
  db: Db,
  repository: string,
  scopes: readonly string[],
  key: string,
): Promise<CacheEntry[]> {
  if (scopes.length === 0) return [];
  const rows = await db
    .selectFrom("cache_entries")
    .selectAll()
    .where("repository", "=", repository)
    .where("scope", "in", scopes)
    .where("key", "=", key)
    .where("state", "=", "committed")
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(toEntry);
}
