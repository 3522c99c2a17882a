/** A cache entry as the protocol adapters see it. */
import type { CacheEntryTable, EntryState } from "../db/schema.js";
import type { Selectable } from "kysely";

export interface CacheEntry {
  id: number;
  repository: string;
  scope: string;
  key: string;
  version: string;
  state: EntryState;
  declaredSize: number | null;
  size: number | null;
  createdAt: number;
  committedAt: number | null;
  lastAccessedAt: number | null;
  /** The job that reserved the entry, when a runner's job did; its end ends the upload's right. */
  createdByJob: number | null;
}

export function toEntry(row: Selectable<CacheEntryTable>): CacheEntry {
  return {
    id: Number(row.id),
    repository: row.repository,
    scope: row.scope,
    key: row.key,
    version: row.version,
    state: row.state,
    declaredSize: row.declared_size === null ? null : Number(row.declared_size),
    size: row.size === null ? null : Number(row.size),
    createdAt: Number(row.created_at),
    committedAt: row.committed_at === null ? null : Number(row.committed_at),
    lastAccessedAt: row.last_accessed_at === null ? null : Number(row.last_accessed_at),
    createdByJob: row.created_by_job === null ? null : Number(row.created_by_job),
  };
}

/** Who is saving: the runner and the job GitHub says it runs. */
export interface Saver {
  runnerId: string;
  jobId: number | null;
}
