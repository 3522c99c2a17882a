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

/** A run from "list workflow runs for a repository": what a search needs to order and walk it. */
export interface RunSummary {
  id: number;
  runAttempt: number;
}

export function parseRunSummary(raw: unknown): RunSummary {
  const run = asObject(raw, "listed workflow run");
  return {
    id: positiveInteger(run.id, "run.id"),
    runAttempt: typeof run.run_attempt === "number" ? run.run_attempt : 1,
  };
}

export function parseRepository(raw: unknown): RepositoryFacts {
  const repository = asObject(raw, "repository");
  const fullName = nonEmptyString(repository.full_name);
  const defaultBranch = nonEmptyString(repository.default_branch);
  if (fullName === null || defaultBranch === null) {
    throw new GitHubApiError(
      "bad_response",
      "repository answer has no full_name or default_branch",
    );
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

/** A pull request as a workflow run lists it; its base repository is known by its API URL. */
export interface ListedPullRequest {
  number: number;
  baseRef: string | null;
  /** `owner/name` read from `base.repo.url`, when that URL has the /repos/owner/name form. */
  baseRepository: string | null;
}

/**
 * A run attempt, from "get a workflow run attempt" or the `workflow_run` webhook, which share
 * the shape (docs.github.com, REST API, workflow runs; webhook events, workflow_run).
 */
export interface WorkflowRun {
  id: number;
  runAttempt: number;
  event: string;
  headBranch: string | null;
  headSha: string | null;
  headRepository: string | null;
  repository: string | null;
  pullRequests: ListedPullRequest[];
}

/** A pull request from "list pull requests" (docs.github.com, REST API, pulls). */
export interface PullRequestSummary {
  number: number;
  headSha: string | null;
  baseRef: string | null;
  baseRepository: string | null;
}

export function parseWorkflowRun(raw: unknown): WorkflowRun {
  const run = asObject(raw, "workflow run");
  const event = nonEmptyString(run.event);
  if (event === null) throw new GitHubApiError("bad_response", "workflow run has no event");
  const listed = run.pull_requests;
  if (listed !== undefined && listed !== null && !Array.isArray(listed)) {
    throw new GitHubApiError("bad_response", "workflow run pull_requests is not a list");
  }
  return {
    id: positiveInteger(run.id, "run.id"),
    runAttempt: positiveInteger(run.run_attempt, "run.run_attempt"),
    event,
    headBranch: nonEmptyString(run.head_branch),
    headSha: nonEmptyString(run.head_sha),
    headRepository: fullNameOf(run.head_repository),
    repository: fullNameOf(run.repository),
    pullRequests: (listed ?? []).map(parseListedPullRequest),
  };
}

function parseListedPullRequest(raw: unknown): ListedPullRequest {
  const pr = asObject(raw, "run pull request");
  const base = optionalObject(pr.base);
  return {
    number: positiveInteger(pr.number, "pull_requests[].number"),
    baseRef: nonEmptyString(base?.ref),
    baseRepository: repositoryFromApiUrl(optionalObject(base?.repo)?.url),
  };
}

export function parsePullRequestList(raw: unknown): PullRequestSummary[] {
  if (!Array.isArray(raw)) {
    throw new GitHubApiError("bad_response", "pull request list is not a list");
  }
  return raw.map((item) => {
    const pr = asObject(item, "pull request");
    const base = optionalObject(pr.base);
    return {
      number: positiveInteger(pr.number, "pull.number"),
      headSha: nonEmptyString(optionalObject(pr.head)?.sha),
      baseRef: nonEmptyString(base?.ref),
      baseRepository: fullNameOf(base?.repo),
    };
  });
}

/** `owner/name` from an API URL ending in /repos/owner/name (github.com or GHES's /api/v3). */
function repositoryFromApiUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = /\/repos\/([^/]+)\/([^/]+)\/?$/.exec(value);
  return match ? `${match[1]}/${match[2]}` : null;
}

function fullNameOf(value: unknown): string | null {
  return nonEmptyString(optionalObject(value)?.full_name);
}

function optionalObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
