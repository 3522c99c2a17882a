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

/** What GitHub said about one run attempt ("get a workflow run" or the workflow_run webhook). */
export interface RunTable {
  repository: string;
  run_id: number;
  run_attempt: number;
  /** The installation whose webhook or token told us; facts serve only that installation's jobs. */
  installation_id: number;
  event: string;
  head_branch: string | null;
  head_sha: string | null;
  /** `owner/name`; differs from `repository` for a run from a fork. */
  head_repository: string | null;
  /** JSON list of the pull requests the run listed: candidates only. */
  listed_pull_requests: string;
  pr_number: number | null;
  pr_base_ref: string | null;
  pr_base_repository: string | null;
  /** "run" (its own list), "pulls_api" (the fork lookup) or "none"; null while not established. */
  pr_source: string | null;
  /** branch, tag, ambiguous or unknown; null while not determined. */
  ref_kind: string | null;
  /** "push_webhook", "git_refs_api" or "event". */
  ref_kind_source: string | null;
  /** "webhook" or "api". */
  source: string;
  updated_at: number;
}

/** A branch or tag push seen through the `push` webhook: which full ref points at which commit. */
export interface PushTable {
  repository: string;
  /** Full ref: refs/heads/B or refs/tags/T. */
  ref: string;
  after_sha: string;
  installation_id: number;
  received_at: number;
}

/** The operator's branch-protection switch, per installation ('' repository) or repository. */
export interface ScopeSettingTable {
  installation_id: number;
  repository: string;
  /** 1 on, 0 off. */
  branch_protection: number;
  updated_at: number;
}

export interface Database {
  runners: RunnerTable;
  repositories: RepositoryTable;
  jobs: JobTable;
  webhook_deliveries: WebhookDeliveryTable;
  cache_entries: CacheEntryTable;
  entry_parts: EntryPartTable;
  staged_blocks: StagedBlockTable;
  runs: RunTable;
  pushes: PushTable;
  scope_settings: ScopeSettingTable;
}
