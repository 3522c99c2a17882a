/**
 * The API fallback: when no webhook has told us a runner's job, ask GitHub. The run named by the
 * hint has its jobs listed (latest attempt, page after page) and the runner's job is the one
 * whose `runner_name` is this runner and whose status is in_progress. Only that answer counts;
 * what is found is stored, so the next call needs no API call.
 *
 * Without any hint, a repository runner's job is searched for among the repository's
 * in-progress runs (run-search.ts), bounded in runs and API calls.
 *
 * One walk or search per runner at a time (single flight), failures remembered for a short
 * while, and the whole of it bounded by the resolve budget.
 */
import type { GitHubClient, WorkflowJob } from "../github/client.js";
import type { JobStatus } from "../db/schema.js";
import type { Runner } from "../identity/runners.js";
import type { Logger } from "../log.js";
import { withBudget } from "./budget.js";
import { explainGitHubFailure } from "./github-failure.js";
import type { RunHintChoice } from "./hints.js";
import { STATUS_RANK, type JobRecord, type JobStore } from "./job-store.js";
import { walkRunJobs } from "./jobs-walk.js";
import { NegativeCache } from "./negative-cache.js";
import { searchInProgressRuns, type RunSearch } from "./run-search.js";
import { SingleFlight } from "./single-flight.js";

export type FallbackOutcome =
  | { found: true; job: JobRecord }
  | { found: false; reason: string; remembered: boolean };

export interface FallbackOptions {
  budgetMs: number;
  negativeCacheMs: number;
}

export class ApiFallback {
  private readonly flights = new SingleFlight<string, FallbackOutcome>();
  private readonly failures: NegativeCache<string>;

  constructor(
    private readonly github: GitHubClient,
    private readonly jobs: JobStore,
    private readonly log: Logger,
    private readonly options: FallbackOptions,
  ) {
    this.failures = new NegativeCache(options.negativeCacheMs);
  }

  /** GitHub's word on the runner's job in the hinted run; never throws. */
  async find(runner: Runner, hint: RunHintChoice): Promise<FallbackOutcome> {
    const failureKey = [runner.id, hint.repository, hint.runId, hint.runAttempt ?? ""].join("|");
    return this.once(runner, failureKey, () => this.lookUp(runner, hint));
  }

  /** GitHub's word on the runner's job among its repository's in-progress runs; never throws. */
  async search(runner: Runner): Promise<FallbackOutcome> {
    const { repository } = runner;
    if (repository === null) return refused("no run id hint; an organisation runner's runs are not searched");
    return this.once(runner, [runner.id, repository, "search"].join("|"), () => this.searchUp(runner, repository));
  }

  /** Runs `work` unless its failure is remembered, sharing it with the runner's other calls. */
  private async once(runner: Runner, failureKey: string, work: () => Promise<FallbackOutcome>) {
    const remembered = this.failures.get(failureKey);
    if (remembered !== undefined) return { found: false as const, reason: remembered, remembered: true };
    // Per runner, not per question: a runner sending many run ids at once still costs one walk.
    return this.flights.run(runner.id, async () => {
      const outcome = await work();
      if (!outcome.found) this.failures.set(failureKey, outcome.reason);
      return outcome;
    });
  }

  private async lookUp(runner: Runner, hint: RunHintChoice): Promise<FallbackOutcome> {
    const startedAt = Date.now();
    try {
      const { job, pages } = await withBudget(this.options.budgetMs, (signal) =>
        walkRunJobs(this.github, runner, hint.repository, hint.runId, signal),
      );
      this.log.info(
        { event: "github_jobs_listed", runner: runner.name, repository: hint.repository, run: hint.runId, pages,
          found: job?.id ?? null, status: job?.status ?? null, durationMs: Date.now() - startedAt },
        "asked GitHub for the runner's job",
      );
      if (job === undefined) {
        return refused(`run ${hint.runId} has no job on this runner (${runner.name}) in its latest attempt`);
      }
      return await this.settle(job, hint.repository, runner);
    } catch (error) {
      const what = `listing the jobs of ${hint.repository} run ${hint.runId}`;
      return refused(explainGitHubFailure(error, what));
    }
  }

  private async searchUp(runner: Runner, repository: string): Promise<FallbackOutcome> {
    const startedAt = Date.now();
    try {
      const search = await withBudget(this.options.budgetMs, (signal) =>
        searchInProgressRuns(this.github, runner, repository, signal),
      );
      this.log.info(
        { event: "github_runs_searched", runner: runner.name, repository, inProgressRuns: search.inProgressRuns,
          runsWalked: search.runsWalked, calls: search.calls, found: search.job?.id ?? null,
          run: search.job?.runId ?? null, cutShort: search.cutShort, durationMs: Date.now() - startedAt },
        "searched GitHub's in-progress runs for the runner's job",
      );
      if (search.job === undefined) return refused(notFoundInSearch(runner, repository, search));
      return await this.settle(search.job, repository, runner);
    } catch (error) {
      return refused(`no run id hint; ${explainGitHubFailure(error, `searching the in-progress runs of ${repository}`)}`);
    }
  }

  /** Stores the job GitHub named and allows it only if the stored row is still in progress. */
  private async settle(job: WorkflowJob, repository: string, runner: Runner): Promise<FallbackOutcome> {
    const stored = await this.store(job, repository, runner.installationId);
    if (stored?.status !== "in_progress") {
      const status = stored?.status ?? job.status;
      return refused(`job ${job.id} of run ${job.runId} on this runner: job not in progress (${status})`);
    }
    return { found: true, job: stored };
  }

  /** Records what GitHub said and reads back the stored row, which a webhook may have overtaken. */
  private async store(job: WorkflowJob, repository: string, installationId: number): Promise<JobRecord | undefined> {
    const status = knownStatus(job.status);
    if (status !== undefined) await this.jobs.record(toRecord(job, status, repository, installationId));
    return (await this.jobs.job(job.id)) ?? undefined;
  }
}

function notFoundInSearch(runner: Runner, repository: string, search: RunSearch): string {
  const searched = `no run id hint, and no job in progress on this runner (${runner.name})`;
  if (search.inProgressRuns === 0 && search.runsWalked === 0) return `${searched}: ${repository} has no run in progress`;
  const among = `in the ${search.runsWalked} newest in-progress runs of ${repository}`;
  const total = search.inProgressRuns === null ? "" : ` (of ${search.inProgressRuns})`;
  return search.cutShort === null ? `${searched} ${among}` : `${searched} ${among}${total}: ${search.cutShort}`;
}

function refused(reason: string): FallbackOutcome {
  return { found: false, reason, remembered: false };
}

/** GitHub's job statuses on our scale; requested and pending are still waiting for a runner. */
function knownStatus(status: string): JobStatus | undefined {
  if (status === "in_progress" || status === "completed" || status === "queued" || status === "waiting") return status;
  if (status === "requested" || status === "pending") return "queued";
  return undefined;
}

function toRecord(job: WorkflowJob, status: JobStatus, repository: string, installationId: number): JobRecord {
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
