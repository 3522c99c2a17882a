/**
 * Turns a `workflow_job` event into what the service records: the job (on the runner GitHub
 * names) and the repository's default branch.
 */
import type { JobStatus } from "../db/schema.js";
import { STATUS_RANK, type JobRecord, type JobStore } from "../scope/job-store.js";

export interface WorkflowJobOutcome {
  recorded: boolean;
  reason: string;
  jobId?: number;
  runId?: number;
  repository?: string;
  runner?: string | null;
  status?: JobStatus;
}

interface WorkflowJobPayload {
  action?: unknown;
  workflow_job?: Record<string, unknown>;
  repository?: { full_name?: unknown; default_branch?: unknown };
  installation?: { id?: unknown };
}

const STATUSES = new Set<JobStatus>(["queued", "waiting", "in_progress", "completed"]);

export async function recordWorkflowJob(
  jobs: JobStore,
  payload: WorkflowJobPayload,
): Promise<WorkflowJobOutcome> {
  const job = payload.workflow_job;
  const repository = payload.repository?.full_name;
  const installationId = payload.installation?.id;
  if (typeof job !== "object" || job === null)
    return { recorded: false, reason: "payload has no workflow_job" };
  if (typeof repository !== "string")
    return { recorded: false, reason: "payload has no repository.full_name" };
  if (typeof installationId !== "number")
    return { recorded: false, reason: "payload has no installation id" };
  const id = job.id;
  const runId = job.run_id;
  if (typeof id !== "number" || typeof runId !== "number") {
    return { recorded: false, reason: "workflow_job has no numeric id or run_id" };
  }
  const action = typeof payload.action === "string" ? payload.action : job.status;
  const status = STATUSES.has(action as JobStatus) ? (action as JobStatus) : undefined;
  if (status === undefined)
    return { recorded: false, reason: `unknown workflow_job action ${String(action)}` };

  const defaultBranch = payload.repository?.default_branch;
  await jobs.recordRepository(
    repository,
    installationId,
    typeof defaultBranch === "string" ? defaultBranch : null,
  );

  // GitHub sends null, and sometimes "", for a job no runner picked up.
  const runnerName =
    typeof job.runner_name === "string" && job.runner_name !== "" ? job.runner_name : null;
  const record: JobRecord = {
    id,
    run_id: runId,
    run_attempt: typeof job.run_attempt === "number" ? job.run_attempt : 1,
    repository,
    installation_id: installationId,
    runner_name: runnerName,
    status,
    status_rank: STATUS_RANK[status],
    head_branch: stringOrNull(job.head_branch),
    head_sha: stringOrNull(job.head_sha),
    workflow_name: stringOrNull(job.workflow_name),
    started_at: timeOrNull(job.started_at),
    completed_at: timeOrNull(job.completed_at),
    updated_at: Date.now(),
    source: "webhook",
  };
  await jobs.record(record);
  return {
    recorded: true,
    reason: "recorded",
    jobId: id,
    runId,
    repository,
    runner: runnerName,
    status,
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function timeOrNull(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
