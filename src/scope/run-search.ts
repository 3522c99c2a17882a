/**
 * The search for a runner's job when no run id hint names its run: the repository's in-progress
 * runs are listed, and each run, newest first, has its jobs walked (jobs-walk.ts) until one is in
 * progress on this runner. Only GitHub's answer counts, as for a hinted run.
 *
 * A busy repository may have many runs in progress, so the search is bounded in runs and in API
 * calls (and by the caller's time budget): what it cannot reach it does not guess, and the
 * refusal names the bound. The first match ends the search: a runner runs one job at a time.
 */
import {
  RUNS_PER_PAGE,
  type GitHubClient,
  type RunSummary,
  type WorkflowJob,
} from "../github/client.js";
import type { Runner } from "../identity/runners.js";
import { walkRunJobs } from "./jobs-walk.js";

/** Runs searched at most: the newest ones, where a job that has just started is found. */
export const MAX_RUNS_SEARCHED = 10;
/** Pages of the run list read at most; enough for MAX_RUNS_SEARCHED runs. */
export const MAX_RUN_LIST_PAGES = Math.ceil(MAX_RUNS_SEARCHED / RUNS_PER_PAGE);
/**
 * API calls one search may make (run-list pages plus job-list pages): a run of 1,000 jobs, or
 * several small runs, while a lost webhook costs a small share of an installation's 5,000
 * calls an hour. A failed search is remembered (GHA_CACHE_NEGATIVE_CACHE_MS), not repeated.
 */
export const MAX_SEARCH_API_CALLS = 12;

export interface RunSearch {
  /** The runner's in-progress job, when found. */
  job: WorkflowJob | undefined;
  /** In-progress runs as GitHub counts them; null when it did not say. */
  inProgressRuns: number | null;
  runsWalked: number;
  /** API calls made: run-list pages and job-list pages. */
  calls: number;
  /** Which bound stopped the search before every in-progress run was asked; null if none did. */
  cutShort: string | null;
}

export async function searchInProgressRuns(
  github: GitHubClient,
  runner: Runner,
  repository: string,
  signal: AbortSignal,
): Promise<RunSearch> {
  const listed = await listNewestRuns(github, runner, repository, signal);
  const search: RunSearch = {
    job: undefined,
    inProgressRuns: listed.total,
    runsWalked: 0,
    calls: listed.calls,
    cutShort: null,
  };
  for (const run of listed.runs.slice(0, MAX_RUNS_SEARCHED)) {
    const callsLeft = MAX_SEARCH_API_CALLS - search.calls;
    if (callsLeft <= 0) return { ...search, cutShort: callBound() };
    const walk = await walkRunJobs(github, runner, repository, run.id, signal, callsLeft);
    search.runsWalked += 1;
    search.calls += walk.pages;
    if (walk.job?.status === "in_progress") return { ...search, job: walk.job };
    if (!walk.complete) return { ...search, cutShort: callBound() };
  }
  const known = Math.max(listed.total ?? 0, listed.runs.length);
  if (known > search.runsWalked) {
    const cutShort = `the search stops at the newest ${MAX_RUNS_SEARCHED} in-progress runs`;
    return { ...search, cutShort };
  }
  return search;
}

/** Why a search that found nothing fails closed: what it asked, and the bound that stopped it. */
export function searchMissReason(runner: Runner, repository: string, search: RunSearch): string {
  const searched = `no run id hint, and no job in progress on this runner (${runner.name})`;
  if (search.inProgressRuns === 0 && search.runsWalked === 0) {
    return `${searched}: ${repository} has no run in progress`;
  }
  const among = `in the ${search.runsWalked} newest in-progress runs of ${repository}`;
  if (search.cutShort === null) return `${searched} ${among}`;
  const total = search.inProgressRuns === null ? "" : ` (of ${search.inProgressRuns})`;
  return `${searched} ${among}${total}: ${search.cutShort}`;
}

function callBound(): string {
  return `the search stops at ${MAX_SEARCH_API_CALLS} API calls`;
}

/** Up to MAX_RUN_LIST_PAGES pages of in-progress runs, newest (highest run id) first. */
async function listNewestRuns(
  github: GitHubClient,
  runner: Runner,
  repository: string,
  signal: AbortSignal,
) {
  const runs: RunSummary[] = [];
  let total: number | null = null;
  let calls = 0;
  for await (const page of github.inProgressRuns(runner.installationId, repository, signal)) {
    calls += 1;
    total = page.totalCount ?? total;
    runs.push(...page.runs);
    if (calls >= MAX_RUN_LIST_PAGES || runs.length >= MAX_RUNS_SEARCHED) break;
  }
  // GitHub lists newest first; sorted anyway, since run ids only grow.
  runs.sort((a, b) => b.id - a.id);
  return { runs, total, calls };
}
