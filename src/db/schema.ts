/**
 * Table shapes of the metadata store, as Kysely sees them. Times are epoch milliseconds so the
 * same columns work on SQLite and PostgreSQL.
 */
import type { Generated } from "kysely";

export interface RunnerTable {
  /** Random id; the subject of the runner's token. */
  id: string;
  /** The runner's name as GitHub knows it (`runner_name` in workflow_job events). */
  name: string;
  /** `owner/name`, or null for an organisation runner that serves several repositories. */
  repository: string | null;
  installation_id: number;
  created_at: number;
  /** Last job-start report: a hint only, never trusted until GitHub confirms it. */
  hint_repository: string | null;
  hint_run_id: number | null;
  hint_run_attempt: number | null;
  hint_at: number | null;
}

export interface RepositoryTable {
  full_name: string;
  installation_id: number;
  default_branch: string | null;
  updated_at: number;
}

export type JobStatus = "queued" | "waiting" | "in_progress" | "completed";

export interface JobTable {
  /** GitHub's workflow job id, unique per run attempt. */
  id: number;
  run_id: number;
  run_attempt: number;
  repository: string;
  installation_id: number;
  runner_name: string | null;
  status: JobStatus;
  /** queued < waiting < in_progress < completed; a job never moves backwards. */
  status_rank: number;
  head_branch: string | null;
  head_sha: string | null;
  workflow_name: string | null;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  /** Where the row came from: "webhook" or "api". */
  source: string;
}

export interface WebhookDeliveryTable {
  id: string;
  event: string;
  received_at: number;
}

export type EntryState = "uploading" | "committed";

export interface CacheEntryTable {
  id: Generated<number>;
  repository: string;
  scope: string;
  key: string;
  version: string;
  state: EntryState;
  declared_size: number | null;
  size: number | null;
  created_at: number;
  committed_at: number | null;
  /** Time of the last byte or call of the upload; an upload idle too long is abandoned. */
  last_upload_at: number;
  last_accessed_at: number | null;
  last_accessed_by: string | null;
  created_by_runner: string;
  created_by_job: number | null;
}

/** One stored piece of an entry's bytes, at its offset in the archive. */
export interface EntryPartTable {
  entry_id: number;
  offset: number;
  size: number;
  blob_name: string;
}

/** A block received by Put Block, waiting for the Put Block List that orders it. */
export interface StagedBlockTable {
  entry_id: number;
  block_id: string;
  size: number;
  blob_name: string;
  received_at: number;
}

export interface Database {
  runners: RunnerTable;
  repositories: RepositoryTable;
  jobs: JobTable;
  webhook_deliveries: WebhookDeliveryTable;
  cache_entries: CacheEntryTable;
  entry_parts: EntryPartTable;
  staged_blocks: StagedBlockTable;
}
