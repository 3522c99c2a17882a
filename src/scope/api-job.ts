/**
 * A job as GitHub's API reported it, in the shape the job store keeps (the same rows a
 * workflow_job webhook makes), marked as coming from the API.
 */
import type { JobStatus } from "../db/schema.js";
import type { WorkflowJob } from "../github/client.js";
import { STATUS_RANK, type JobRecord } from "./job-store.js";

/** The row for `job`, or undefined when GitHub's status is not one the store knows. */
export function apiJobRecord(
  job: WorkflowJob,
  repository: string,
  installationId: number,
): JobRecord | undefined {
  const status = knownStatus(job.status);
  return status === undefined ? undefined : toRecord(job, status, repository, installationId);
}

/** GitHub's job statuses on our scale; requested and pending are still waiting for a runner. */
function knownStatus(status: string): JobStatus | undefined {
  if (
    status === "in_progress" ||
    status === "completed" ||
    status === "queued" ||
    status === "waiting"
  )
    return status;
  if (status === "requested" || status === "pending") return "queued";
  return undefined;
}

function toRecord(
  job: WorkflowJob,
  status: JobStatus,
  repository: string,
  installationId: number,
): JobRecord {
  return {
    id: job.id,
    run_id: job.runId,
    run_attempt: job.runAttempt,
    repository,
    installation_id: installationId,
    runner_name: job.runnerName,
    status,
    status_rank: STATUS_RANK[status],
    head_branch: job.headBranch,
    head_sha: job.headSha,
    workflow_name: job.workflowName,
    started_at: job.startedAt,
    completed_at: job.completedAt,
    updated_at: Date.now(),
    source: "api",
  };
}
