/**
 * The search for a runner's job when no run id hint names its run: the repository's in-progress
 * runs on a fake GitHub, newest first, each run's jobs walked until one is in progress on the
 * runner, within a bound on runs and API calls.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { JOBS_PER_PAGE } from "../../src/github/client.js";
import { MAX_RUNS_SEARCHED, MAX_SEARCH_API_CALLS } from "../../src/scope/run-search.js";
import { runOfJobs, type FakeGitHub } from "../helpers/fake-github.js";
import { logsOf, REPOSITORY, reserve, startWithGitHub } from "./fixture.js";

const FIRST_RUN = 9001;
const SMALL_RUN_JOBS = 3;

/** Calls the search makes: run-list pages and job-list pages (the token mint is not one). */
function searchCalls(github: FakeGitHub): number {
  return github.count("runs") + github.count("jobs");
}

/** `count` in-progress runs of other runners, ids FIRST_RUN upwards. */
function addOthersRuns(github: FakeGitHub, count: number): void {
  for (let index = 0; index < count; index += 1) {
    github.addRun(REPOSITORY, FIRST_RUN + index, runOfJobs(FIRST_RUN + index, SMALL_RUN_JOBS));
  }
}

test("without a hint, the runner's job is found in the second newest of three in-progress runs", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { runner, token } = await server.registerRunner("runner-1", REPOSITORY);
    addOthersRuns(github, 3);
    const mine = FIRST_RUN + 1;
    github.addRun(
      REPOSITORY,
      mine,
      runOfJobs(mine, SMALL_RUN_JOBS, { index: 2, runnerName: "runner-1" }),
    );

    const call = await reserve(server, token);

    assert.equal(call.status, 201, call.message);
    const walked = github.calls.filter((c) => c.route === "jobs").map((c) => c.path);
    assert.deepEqual(
      walked,
      [FIRST_RUN + 2, mine].map((run) => `/repos/${REPOSITORY}/actions/runs/${run}/jobs`),
    );
    assert.deepEqual(github.calls.find((c) => c.route === "runs")?.query, {
      status: "in_progress",
      per_page: "100",
    });
    assert.ok(searchCalls(github) <= MAX_SEARCH_API_CALLS);
    const stored = await server.server.services.jobs.currentJob(runner);
    assert.equal(Number(stored?.run_id), mine);
    assert.equal(stored?.source, "api");
  } finally {
    await close();
  }
});

test("more in-progress runs than the bound: the newest are searched, then it fails closed naming the bound", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    // The runner's job is in the oldest run, beyond the newest MAX_RUNS_SEARCHED.
    github.addRun(
      REPOSITORY,
      FIRST_RUN - 1,
      runOfJobs(FIRST_RUN - 1, 1, { index: 0, runnerName: "runner-1" }),
    );
    addOthersRuns(github, MAX_RUNS_SEARCHED + 1);

    const call = await reserve(server, token);

    assert.equal(call.status, 403);
    const bound = `the search stops at the newest ${MAX_RUNS_SEARCHED} in-progress runs`;
    assert.match(call.message, new RegExp(`of ${MAX_RUNS_SEARCHED + 2}\\): ${bound}`));
    assert.equal(github.count("jobs"), MAX_RUNS_SEARCHED);
    assert.ok(searchCalls(github) <= MAX_SEARCH_API_CALLS);
  } finally {
    await close();
  }
});

test("a run too long for the call bound is walked up to the bound, then the search fails closed", async () => {
  const { server, github, close } = await startWithGitHub({ budgetMs: 20_000 });
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    const jobs = (MAX_SEARCH_API_CALLS + 1) * JOBS_PER_PAGE;
    github.addRun(
      REPOSITORY,
      FIRST_RUN,
      runOfJobs(FIRST_RUN, jobs, { index: jobs - 1, runnerName: "runner-1" }),
    );

    const call = await reserve(server, token);

    assert.equal(call.status, 403);
    assert.match(call.message, new RegExp(`the search stops at ${MAX_SEARCH_API_CALLS} API calls`));
    assert.equal(searchCalls(github), MAX_SEARCH_API_CALLS);
  } finally {
    await close();
  }
});

test("no in-progress run has a job on the runner: fails closed, and the failure is remembered", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    addOthersRuns(github, 3);

    const burst = await Promise.all([
      reserve(server, token),
      reserve(server, token),
      reserve(server, token),
    ]);
    const later = await reserve(server, token);

    for (const call of [...burst, later]) {
      assert.equal(call.status, 403);
      assert.match(
        call.message,
        /no job in progress on this runner \(runner-1\) in the 3 newest in-progress runs/,
      );
    }
    assert.equal(github.count("runs"), 1, "one search for the burst and the later call");
    assert.equal(github.count("jobs"), 3);
    const searched = logsOf(server, "github_runs_searched");
    assert.equal(searched.length, 1);
    assert.equal(searched[0]?.calls, 4);
  } finally {
    await close();
  }
});

test("a repository with no run in progress fails closed after one call", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    const done = { index: 0, runnerName: "runner-1", status: "completed" as const };
    github.addRun(REPOSITORY, FIRST_RUN, runOfJobs(FIRST_RUN, 1, done));

    const call = await reserve(server, token);

    assert.equal(call.status, 403);
    assert.match(call.message, /octo\/app has no run in progress/);
    assert.equal(searchCalls(github), 1);
  } finally {
    await close();
  }
});

test("an organisation runner without a hint is refused without a search", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("org-runner", null);
    github.addRun(
      REPOSITORY,
      FIRST_RUN,
      runOfJobs(FIRST_RUN, 1, { index: 0, runnerName: "org-runner" }),
    );

    const call = await reserve(server, token);

    assert.equal(call.status, 403);
    assert.match(call.message, /no run id hint.*an organisation runner's runs are not searched/);
    assert.equal(github.calls.length, 0);
  } finally {
    await close();
  }
});
