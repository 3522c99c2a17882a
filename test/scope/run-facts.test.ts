/**
 * Run facts against a fake GitHub: what the workflow_run webhook said is used without a call;
 * otherwise "get a workflow run attempt" is asked once per attempt, a fork's pull request is
 * looked up by its head commit, and every missing fact narrows the job to the default branch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs } from "../helpers/fake-github.js";
import { defaultHeadSha, pullRequestRun } from "../helpers/run-webhooks.js";
import { REPOSITORY, startWithGitHub, type Fixture } from "./fixture.js";
import { refusalOf, restore, save, startJob } from "./run-jobs.js";

const FORK = "mallory/app";
const RUN = 8100;
const CONCURRENT_CALLS = 6;

async function withGitHub(run: (fixture: Fixture) => Promise<void>): Promise<void> {
  const fixture = await startWithGitHub();
  try {
    await run(fixture);
  } finally {
    await fixture.close();
  }
}

/** A run on the fake GitHub whose facts agree with the jobs the test server is told about. */
function fakeRun(fixture: Fixture, runId: number, headBranch: string, attempts = 1, facts = {}) {
  const jobs = Array.from({ length: attempts }, (_unused, index) =>
    runOfJobs(runId, 1, { index: 0, runnerName: "elsewhere", runAttempt: index + 1, headBranch }),
  ).flat();
  fixture.github.addRun(REPOSITORY, runId, jobs, {
    headSha: defaultHeadSha(REPOSITORY, headBranch),
    ...facts,
  });
}

test("workflow_run webhook facts are used without any call to GitHub", () =>
  withGitHub(async ({ server, github }) => {
    const push = await startJob(server, { repository: REPOSITORY, headBranch: "feature" });
    const pr = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "topic",
      run: pullRequestRun(4, "main"),
    });

    assert.equal((await save(server, push, "k")).status, 201);
    assert.equal((await save(server, pr, "k")).status, 201);

    assert.equal(await restore(server, pr, "k"), "refs/pull/4/merge");
    assert.deepEqual(github.calls, []);
  }));

test("run facts are fetched once per run attempt, however many calls wait, and a new attempt fetches again", () =>
  withGitHub(async (fixture) => {
    const { server, github } = fixture;
    fakeRun(fixture, RUN, "feature", 2);
    const options = {
      repository: REPOSITORY,
      headBranch: "feature",
      runId: RUN,
      run: { withoutWorkflowRun: true },
    };
    const first = await startJob(server, options);
    const sibling = await startJob(server, options);

    const calls = await Promise.all(
      Array.from({ length: CONCURRENT_CALLS }, (_unused, index) =>
        save(server, index % 2 ? first : sibling, `k-${index}`),
      ),
    );
    assert.deepEqual(new Set(calls.map((call) => call.status)), new Set([201]));
    assert.equal(github.count("run_attempt"), 1);

    const retried = await startJob(server, { ...options, runAttempt: 2 });
    assert.equal((await save(server, retried, "k-again")).status, 201);
    assert.equal(github.count("run_attempt"), 2);
    assert.deepEqual(
      github.calls.filter((c) => c.route === "run_attempt").map((c) => c.path.split("/").at(-1)),
      ["1", "2"],
    );
    assert.equal(github.count("git_ref"), 0, "the push webhook said it was a branch");
  }));

test("a run whose facts cannot be fetched (GitHub 500) is read-only on the default branch, the reason logged", () =>
  withGitHub(async (fixture) => {
    const { server, github } = fixture;
    const main = await startJob(server, { repository: REPOSITORY, headBranch: "main" });
    await save(server, main, "base");
    fakeRun(fixture, RUN, "feature");
    github.fail("run_attempt", { status: 500 });
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "feature",
      runId: RUN,
      run: null,
    });

    const call = await save(server, job, "k");

    assert.equal(call.status, 403);
    assert.match(
      call.message,
      /read-only on the default branch: trigger event unknown: GitHub API error \(500\) getting/,
    );
    assert.equal(await restore(server, job, "base"), "refs/heads/main");
    const refusal = refusalOf(server, job);
    assert.equal(refusal.trigger, null);
    assert.match(String(refusal.reason), /GitHub API error \(500\)/);
    const incomplete = server.logs.find((l) => l.event === "run_facts_incomplete");
    assert.equal(incomplete?.run, RUN);
    assert.equal(github.count("run_attempt"), 1, "the failure is remembered, not retried at once");
  }));

test("a fork pull request with no pull request listed and none matching through the API is read-only", () =>
  withGitHub(async ({ server, github }) => {
    github.addPull(REPOSITORY, {
      number: 40,
      head: `mallory:main`,
      headSha: "b".repeat(40),
      baseRef: "main",
      baseRepository: REPOSITORY,
    });
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "main",
      run: pullRequestRun(40, "main", FORK),
    });

    const call = await save(server, job, "poison");

    assert.equal(call.status, 403);
    assert.match(call.message, /pull_request run whose pull request could not be established/);
    assert.equal(github.count("pulls"), 1);
    assert.equal(github.calls.find((c) => c.route === "pulls")?.query.head, "mallory:main");
    assert.equal(refusalOf(server, job).trigger, "pull_request");
  }));

test("a fork pull request found through the API by its head commit writes its merge ref and reads its base", () =>
  withGitHub(async ({ server, github }) => {
    const release = await startJob(server, { repository: REPOSITORY, headBranch: "release-2" });
    await save(server, release, "base-only");
    const sha = defaultHeadSha(REPOSITORY, "main");
    github.addPull(REPOSITORY, {
      number: 41,
      head: "mallory:main",
      headSha: sha,
      baseRef: "release-2",
      baseRepository: REPOSITORY,
    });
    github.addPull(REPOSITORY, {
      number: 42,
      head: "mallory:main",
      headSha: "c".repeat(40),
      baseRef: "main",
      baseRepository: REPOSITORY,
    });
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "main",
      run: pullRequestRun(41, "release-2", FORK),
    });

    assert.equal((await save(server, job, "k")).status, 201);
    assert.equal(await restore(server, job, "k"), "refs/pull/41/merge");
    assert.equal(await restore(server, job, "base-only"), "refs/heads/release-2");
    assert.equal(github.count("pulls"), 1, "established once and stored");
  }));

test("a name GitHub knows as both a branch and a tag cannot write; as a tag alone it writes the tag", () =>
  withGitHub(async ({ server, github }) => {
    github.addRef(REPOSITORY, "refs/heads/both");
    github.addRef(REPOSITORY, "refs/tags/both");
    github.addRef(REPOSITORY, "refs/tags/v3");
    const dispatch = { event: "workflow_dispatch" };
    const both = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "both",
      run: dispatch,
    });
    const tag = await startJob(server, { repository: REPOSITORY, headBranch: "v3", run: dispatch });

    const refused = await save(server, both, "k");

    assert.equal(refused.status, 403);
    assert.match(refused.message, /names both a branch and a tag/);
    assert.equal((await save(server, tag, "k")).status, 201);
    assert.equal(await restore(server, tag, "k"), "refs/tags/v3");
  }));

test("a ref GitHub cannot be asked about (500) is never guessed: read-only, and the reason says so", () =>
  withGitHub(async ({ server, github }) => {
    github.fail("git_ref", { status: 500 });
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "dev",
      run: { event: "workflow_dispatch" },
    });

    const call = await save(server, job, "k");

    assert.equal(call.status, 403);
    assert.match(
      call.message,
      /not known to be a branch or a tag.*GitHub API error \(500\) reading the refs named dev/,
    );
  }));
