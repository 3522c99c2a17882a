/**
 * The API fallback: when no webhook has told us a runner's job, ask GitHub. The run named by the
 * hint has its jobs listed (latest attempt, page after page) and the runner's job is the one
 * whose `runner_name` is this runner and whose status is in_progress. Only that answer counts;
 * what is found is stored, so the next call needs no API call.
 *
 * One walk per runner at a time (single flight), failures remembered for a short while, and the
 * whole walk bounded by the resolve budget.
 */
import type { GitHubClient, WorkflowJob } from "../github/client.js";
import type { JobStatus } from "../db/schema.js";
import type { Runner } from "../identity/runners.js";
import type { Logger } from "../log.js";
import { withBudget } from "./budget.js";
import { explainGitHubFailure } from "./github-failure.js";
import type { RunHintChoice } from "./hints.js";
import { STATUS_RANK, type JobRecord, type JobStore } from "./job-store.js";
import { NegativeCache } from "./negative-cache.js";
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
    const remembered = this.failures.get(failureKey);
    if (remembered !== undefined) return { found: false, reason: remembered, remembered: true };
    // Per runner, not per hint: a runner sending many run ids at once still costs one walk.
    return this.flights.run(runner.id, async () => {
      const outcome = await this.lookUp(runner, hint);
      if (!outcome.found) this.failures.set(failureKey, outcome.reason);
      return outcome;
    });
  }

  private async lookUp(runner: Runner, hint: RunHintChoice): Promise<FallbackOutcome> {
    const startedAt = Date.now();
    try {
      const { job, pages } = await withBudget(this.options.budgetMs, (signal) => this.walk(runner, hint, signal));
      this.log.info(
        { event: "github_jobs_listed", runner: runner.name, repository: hint.repository, run: hint.runId, pages,
          found: job?.id ?? null, status: job?.status ?? null, durationMs: Date.now() - startedAt },
        "asked GitHub for the runner's job",
      );
      if (job === undefined) {
        return refused(`run ${hint.runId} has no job on this runner (${runner.name}) in its latest attempt`);
      }
      const stored = await this.store(job, hint.repository, runner.installationId);
      if (stored?.status !== "in_progress") {
        const status = stored?.status ?? job.status;
        return refused(`job ${job.id} of run ${hint.runId} on this runner: job not in progress (${status})`);
      }
      return { found: true, job: stored };
    } catch (error) {
      const what = `listing the jobs of ${hint.repository} run ${hint.runId}`;
      return refused(explainGitHubFailure(error, what));
    }
  }

  /** Pages through the run's jobs; stops at the runner's in-progress job, else keeps its last one. */
  private async walk(runner: Runner, hint: RunHintChoice, signal: AbortSignal) {
    let pages = 0;
    let other: WorkflowJob | undefined;
    for await (const page of this.github.runJobs(runner.installationId, hint.repository, hint.runId, signal)) {
      pages += 1;
      for (const job of page) {
        if (job.runnerName !== runner.name) continue;
        // A runner runs one job at a time, so an in-progress match is the answer.
        if (job.status === "in_progress") return { job, pages };
        other = job;
      }
    }
    return { job: other, pages };
  }

  /** Records what GitHub said and reads back the stored row, which a webhook may have overtaken. */
  private async store(job: WorkflowJob, repository: string, installationId: number): Promise<JobRecord | undefined> {
    const status = knownStatus(job.status);
    if (status !== undefined) await this.jobs.record(toRecord(job, status, repository, installationId));
    return (await this.jobs.job(job.id)) ?? undefined;
  }
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
