/**
 * A run's jobs walked for the calling runner's job: page after page of the latest attempt, the
 * match being a job whose `runner_name` is this runner. A runner runs one job at a time, so an
 * in-progress match ends the walk; otherwise the runner's last job in the run is kept, so that a
 * refusal can say what state it was in.
 */
import { JOBS_PER_PAGE, type GitHubClient, type WorkflowJob } from "../github/client.js";
import type { Runner } from "../identity/runners.js";

export interface JobsWalk {
  /** The runner's in-progress job, else its last job seen in the run, else undefined. */
  job: WorkflowJob | undefined;
  /** Pages fetched, one API call each. */
  pages: number;
  /** False when `maxPages` stopped the walk while more pages may have followed. */
  complete: boolean;
}

export async function walkRunJobs(
  github: GitHubClient,
  runner: Runner,
  repository: string,
  runId: number,
  signal: AbortSignal,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<JobsWalk> {
  let pages = 0;
  let other: WorkflowJob | undefined;
  for await (const page of github.runJobs(runner.installationId, repository, runId, signal)) {
    pages += 1;
    for (const job of page) {
      if (job.runnerName !== runner.name) continue;
      if (job.status === "in_progress") return { job, pages, complete: true };
      other = job;
    }
    // A short page is the last one, so stopping after it misses nothing.
    if (pages >= maxPages) return { job: other, pages, complete: page.length < JOBS_PER_PAGE };
  }
  return { job: other, pages, complete: true };
}
