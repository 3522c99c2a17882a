/**
 * Runners on jobs, for tests: a registered runner whose job GitHub has reported in progress (by
 * signed webhooks), and the `completed` event that ends it.
 */
import type { TestServer } from "./server.js";

let nextJobId = 1000;

export interface RunnerOnJob {
  token: string;
  runnerName: string;
  jobId: number;
  runId: number;
  repository: string;
  branch: string;
}

/**
 * Registers a runner and tells the server, through a signed `in_progress` webhook, that it runs
 * a job of `branch`. The default branch of every test repository is `main`.
 */
export async function runnerOnBranch(
  server: TestServer,
  runnerName: string,
  repository: string,
  branch: string,
): Promise<RunnerOnJob> {
  const { token } = await server.registerRunner(runnerName, repository);
  const jobId = nextJobId++;
  const runId = jobId * 10;
  const status = await server.jobEvent({
    action: "in_progress",
    jobId,
    runId,
    repository,
    headBranch: branch,
    runnerName,
  });
  if (status !== 200) throw new Error(`workflow_job webhook answered ${status}`);
  return { token, runnerName, jobId, runId, repository, branch };
}

/** Sends the `completed` event for the runner's job: from then on its token is worth nothing. */
export async function completeJob(server: TestServer, runner: RunnerOnJob): Promise<void> {
  const status = await server.jobEvent({
    action: "completed",
    jobId: runner.jobId,
    runId: runner.runId,
    repository: runner.repository,
    headBranch: runner.branch,
    runnerName: runner.runnerName,
  });
  if (status !== 200) throw new Error(`workflow_job webhook answered ${status}`);
}
