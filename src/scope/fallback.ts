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
import type { Runner } from "../identity/runners.js";
import type { Logger } from "../log.js";
import { apiJobRecord } from "./api-job.js";
import { withBudget } from "./budget.js";
import { explainGitHubFailure } from "./github-failure.js";
import type { RunHintChoice } from "./hints.js";
import type { JobRecord, JobStore } from "./job-store.js";
import { walkRunJobs } from "./jobs-walk.js";
import { NegativeCache } from "./negative-cache.js";
import { searchInProgressRuns, searchMissReason } from "./run-search.js";
import { SingleFlight } from "./single-flight.js";

export type FallbackOutcome =
  { found: true; job: JobRecord } | { found: false; reason: string; remembered: boolean };

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
    if (repository === null) {
      return refused("no run id hint; an organisation runner's runs are not searched");
    }
    const failureKey = [runner.id, repository, "search"].join("|");
    return this.once(runner, failureKey, () => this.searchUp(runner, repository));
  }

  /** Runs `work` unless its failure is remembered, sharing it with the runner's other calls. */
  private async once(
    runner: Runner,
    failureKey: string,
    work: () => Promise<FallbackOutcome>,
  ): Promise<FallbackOutcome> {
    const remembered = this.failures.get(failureKey);
    if (remembered !== undefined) return { found: false, reason: remembered, remembered: true };
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
        {
          event: "github_jobs_listed",
          runner: runner.name,
          repository: hint.repository,
          run: hint.runId,
          pages,
          found: job?.id ?? null,
          status: job?.status ?? null,
          durationMs: Date.now() - startedAt,
        },
        "asked GitHub for the runner's job",
      );
      if (job === undefined) {
        return refused(
          `run ${hint.runId} has no job on this runner (${runner.name}) in its latest attempt`,
        );
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
        {
          event: "github_runs_searched",
          runner: runner.name,
          repository,
          inProgressRuns: search.inProgressRuns,
          runsWalked: search.runsWalked,
          calls: search.calls,
          found: search.job?.id ?? null,
          run: search.job?.runId ?? null,
          cutShort: search.cutShort,
          durationMs: Date.now() - startedAt,
        },
        "searched GitHub's in-progress runs for the runner's job",
      );
      if (search.job === undefined) return refused(searchMissReason(runner, repository, search));
      return await this.settle(search.job, repository, runner);
    } catch (error) {
      const what = `searching the in-progress runs of ${repository}`;
      return refused(`no run id hint; ${explainGitHubFailure(error, what)}`);
    }
  }

  /** Stores the job GitHub named and allows it only if the stored row is still in progress. */
  private async settle(
    job: WorkflowJob,
    repository: string,
    runner: Runner,
  ): Promise<FallbackOutcome> {
    const stored = await this.store(job, repository, runner.installationId);
    if (stored?.status !== "in_progress") {
      const status = stored?.status ?? job.status;
      const which = `job ${job.id} of run ${job.runId} on this runner`;
      return refused(`${which}: job not in progress (${status})`);
    }
    return { found: true, job: stored };
  }

  /** Records what GitHub said and reads back the stored row, which a webhook may have overtaken. */
  private async store(
    job: WorkflowJob,
    repository: string,
    installationId: number,
  ): Promise<JobRecord | undefined> {
    const record = apiJobRecord(job, repository, installationId);
    if (record !== undefined) await this.jobs.record(record);
    return (await this.jobs.job(job.id)) ?? undefined;
  }
}

function refused(reason: string): FallbackOutcome {
  return { found: false, reason, remembered: false };
}
