/**
 * The parts of GitHub's REST answers the resolver relies on, checked field by field: a body that
 * does not have them is a bad answer, never a guess.
 */
import { GitHubApiError } from "./errors.js";

/** A job from "List jobs for a workflow run" (docs.github.com, REST API, workflow jobs). */
export interface WorkflowJob {
  id: number;
  runId: number;
  runAttempt: number;
  /** queued, in_progress, completed, waiting, requested or pending. */
  status: string;
  /** Null until a runner has taken the job; GitHub sometimes sends "" for "no runner". */
  runnerName: string | null;
  headBranch: string | null;
  headSha: string | null;
  workflowName: string | null;
  startedAt: number | null;
  completedAt: number | null;
}

export interface RepositoryFacts {
  fullName: string;
  defaultBranch: string;
}

export function parseWorkflowJob(raw: unknown): WorkflowJob {
  const job = asObject(raw, "workflow job");
  return {
    id: positiveInteger(job.id, "job.id"),
    runId: positiveInteger(job.run_id, "job.run_id"),
    runAttempt: typeof job.run_attempt === "number" ? job.run_attempt : 1,
    status: typeof job.status === "string" ? job.status : "unknown",
    runnerName: nonEmptyString(job.runner_name),
    headBranch: nonEmptyString(job.head_branch),
    headSha: nonEmptyString(job.head_sha),
    workflowName: nonEmptyString(job.workflow_name),
    startedAt: time(job.started_at),
    completedAt: time(job.completed_at),
  };
}

export function parseRepository(raw: unknown): RepositoryFacts {
  const repository = asObject(raw, "repository");
  const fullName = nonEmptyString(repository.full_name);
  const defaultBranch = nonEmptyString(repository.default_branch);
  if (fullName === null || defaultBranch === null) {
    throw new GitHubApiError("bad_response", "repository answer has no full_name or default_branch");
  }
  return { fullName, defaultBranch };
}

function asObject(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new GitHubApiError("bad_response", `${what} is not a JSON object`);
  }
  return raw as Record<string, unknown>;
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new GitHubApiError("bad_response", `${field} is not a positive integer`);
  }
  return value;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function time(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
