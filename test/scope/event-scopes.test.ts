/**
 * Scopes by trigger event, driven over HTTP with the run reported by signed workflow_run and push
 * webhooks (no GitHub App): forks, pull_request_target, sibling pull requests, child branches,
 * tags, names that are both, older attempts, other installations and the protection switch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pullRequestRun, TAG_RUN, workflowRunPayload } from "../helpers/run-webhooks.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createEntryV2, refusalOf, restore, save, startJob } from "./run-jobs.js";

const REPOSITORY = "octo/events";
const FORK = "mallory/events";

async function withServer(run: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

const onBranch = (server: TestServer, headBranch: string, repository = REPOSITORY) =>
  startJob(server, { repository, headBranch });

test("a fork pull request whose head branch is named main saves to its merge ref, never to refs/heads/main", () =>
  withServer(async (server) => {
    // The fork's run lists its pull request (GitHub's webhook sometimes does; see run-facts tests).
    const run = {
      event: "pull_request",
      headRepository: FORK,
      pullRequests: [{ number: 12, baseRef: "main" }],
    };
    const fork = await startJob(server, { repository: REPOSITORY, headBranch: "main", run });

    assert.equal((await save(server, fork, "poison")).status, 201);
    const main = await onBranch(server, "main");

    assert.equal(await restore(server, fork, "poison"), "refs/pull/12/merge");
    assert.equal(
      await restore(server, main, "poison"),
      null,
      "a push job on main never sees the fork's entry",
    );
  }));

test("a pull_request_target job is denied a save on v1 and v2 but reads the default branch", () =>
  withServer(async (server) => {
    const main = await onBranch(server, "main");
    await save(server, main, "deps");
    const target = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "topic",
      run: { event: "pull_request_target", pullRequests: [{ number: 5, baseRef: "main" }] },
    });

    const v1 = await save(server, target, "poison");
    const v2 = await createEntryV2(server, target, "poison-2");

    assert.equal(v1.status, 403);
    assert.match(
      v1.message,
      /^cache write denied: pull_request_target runs may be fired by anyone/,
    );
    assert.equal(v2.ok, false);
    assert.match(v2.message ?? "", /^cache write denied: pull_request_target/);
    assert.equal(await restore(server, target, "deps"), "refs/heads/main");
    const refusal = refusalOf(server, target);
    assert.equal(refusal.trigger, "pull_request_target");
    assert.match(String(refusal.reason), /read-only on the default branch/);
  }));

test("a pull request job cannot read a sibling pull request's merge-ref entries", () =>
  withServer(async (server) => {
    const first = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "topic-a",
      run: pullRequestRun(21, "main"),
    });
    const sibling = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "topic-b",
      run: pullRequestRun(22, "main"),
    });

    assert.equal((await save(server, first, "build")).status, 201);

    assert.equal(await restore(server, first, "build"), "refs/pull/21/merge");
    assert.equal(await restore(server, sibling, "build"), null);
  }));

test("a pull request job reads its merge ref, then its base branch, then the default branch", () =>
  withServer(async (server) => {
    const main = await onBranch(server, "main");
    const release = await onBranch(server, "release-1");
    await save(server, main, "shared");
    await save(server, main, "only-main");
    await save(server, release, "shared");
    const pr = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "fix",
      run: pullRequestRun(31, "release-1"),
    });

    assert.equal(await restore(server, pr, "shared"), "refs/heads/release-1");
    assert.equal(await restore(server, pr, "only-main"), "refs/heads/main");
    await save(server, pr, "shared");
    assert.equal(await restore(server, pr, "shared"), "refs/pull/31/merge");
  }));

test("a feature branch cannot read a child branch's entries", () =>
  withServer(async (server) => {
    const child = await onBranch(server, "feature/child");
    const parent = await onBranch(server, "feature");

    await save(server, child, "child-key");

    assert.equal(await restore(server, child, "child-key"), "refs/heads/feature/child");
    assert.equal(await restore(server, parent, "child-key"), null);
  }));

test("a tag job writes refs/tags/T and cannot read another tag's entries", () =>
  withServer(async (server) => {
    const first = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "v1.0.0",
      run: TAG_RUN,
    });
    const second = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "v2.0.0",
      run: TAG_RUN,
    });

    assert.equal((await save(server, first, "release-build")).status, 201);

    assert.equal(await restore(server, first, "release-build"), "refs/tags/v1.0.0");
    assert.equal(await restore(server, second, "release-build"), null);
  }));

test("a name that is both a branch and a tag cannot write, and the refusal says why", () =>
  withServer(async (server) => {
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "release",
      run: { event: "push", pushes: ["branch", "tag"] },
    });

    const call = await save(server, job, "k");

    assert.equal(call.status, 403);
    assert.match(
      call.message,
      /cache write denied: push run on release, which names both a branch and a tag/,
    );
    assert.equal(refusalOf(server, job).trigger, "push");
  }));

test("a late workflow_run of an older attempt does not change the newer attempt's facts", () =>
  withServer(async (server) => {
    const job = await startJob(server, {
      repository: REPOSITORY,
      headBranch: "feature",
      runAttempt: 2,
    });
    const stale = {
      runId: job.runId,
      runAttempt: 1,
      repository: REPOSITORY,
      headBranch: "feature",
      headSha: "a".repeat(40),
      installationId: 1,
      jobAction: "completed",
    };

    assert.equal(
      await server.webhook(
        "workflow_run",
        workflowRunPayload(stale, { event: "pull_request_target" }),
      ),
      200,
    );

    assert.equal((await save(server, job, "k")).status, 201);
  }));

test("a webhook for another installation does not touch a runner of this installation", () =>
  withServer(async (server) => {
    const job = await onBranch(server, "feature");
    // Installation 2 names the same runner, repository and run, as a pull_request_target job on main.
    const intruder = {
      ...job.spec,
      jobId: job.jobId + 100_000,
      headBranch: "main",
      installationId: 2,
      run: { event: "pull_request_target" },
    };

    assert.equal(await server.jobEvent(intruder), 200);

    assert.equal((await save(server, job, "k")).status, 201);
    assert.equal(await restore(server, job, "k"), "refs/heads/feature");
  }));

test("branch protection off gives one shared scope for that repository only, and each decision says so", () =>
  withServer(async (server) => {
    const OTHER = "octo/strict";
    await server.server.services.protection.set(1, REPOSITORY, false);
    const feature = await onBranch(server, "feature");
    const other = await onBranch(server, "other");
    const strictFeature = await onBranch(server, "feature", OTHER);
    const strictOther = await onBranch(server, "other", OTHER);

    await save(server, feature, "k");
    await save(server, strictFeature, "k");

    assert.equal(await restore(server, other, "k"), "refs/*");
    assert.equal(await restore(server, strictOther, "k"), null);
    const decisions = server.logs.filter((l) => l.event === "scope_decision");
    const shared = decisions.filter((l) => l.repository === REPOSITORY);
    assert.ok(shared.length >= 2);
    assert.ok(
      shared.every((l) =>
        /push run: branch protection is off for this repository/.test(String(l.reason)),
      ),
    );
    assert.ok(
      decisions
        .filter((l) => l.repository === OTHER)
        .every((l) => !/protection is off/.test(String(l.reason))),
    );
  }));
