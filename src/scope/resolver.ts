/**
 * The scope resolver: which refs the calling runner's job may read and write, from what GitHub
 * reported about that job. A runner whose job completed, or whose job is unknown, gets nothing.
 */
import { denied, type ScopeDecision, type ScopeRequest, type ScopeResolver } from "./decision.js";
import type { JobStore } from "./job-store.js";
import { branchScopes } from "./refs.js";

export class JobScopeResolver implements ScopeResolver {
  constructor(private readonly jobs: JobStore) {}

  async resolve(request: ScopeRequest): Promise<ScopeDecision> {
    const { runner } = request;
    const job = await this.jobs.currentJob(runner);
    if (!job) return denied("no job is recorded for this runner", runner.repository);
    if (job.status === "completed") return denied("the runner's job has completed", job.repository);
    if (job.status !== "in_progress") return denied(`the runner's job is ${job.status}`, job.repository);

    const defaultBranch = await this.jobs.defaultBranch(job.repository);
    const scopes = branchScopes(job.head_branch, defaultBranch);
    return {
      repository: job.repository,
      ...scopes,
      reason: "job in progress, recorded from the workflow_job webhook",
      job: {
        jobId: Number(job.id),
        runId: Number(job.run_id),
        runAttempt: Number(job.run_attempt),
        repository: job.repository,
        headBranch: job.head_branch,
        source: job.source === "api" ? "api" : "webhook",
      },
    };
  }
}
