/**
 * The client's run-facts calls against a fake GitHub: a run attempt, pull requests by head, and
 * git refs whose names hold slashes, with 404 read as "absent" and any other failure thrown.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { OctokitGitHubClient } from "../../src/github/client.js";
import { GitHubApiError } from "../../src/github/errors.js";
import { createLogger } from "../../src/log.js";
import { runOfJobs, startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.js";

const INSTALLATION = 7;
const REPOSITORY = "octo/app";
const RUN = 654;
const REQUEST_TIMEOUT_MS = 2000;
const HEAD_SHA = "d".repeat(40);

let github: FakeGitHub;
let client: OctokitGitHubClient;
const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);

before(async () => {
  github = await startFakeGitHub();
  const config = { appId: github.appId, privateKey: github.privateKeyPem, apiUrl: github.url };
  client = new OctokitGitHubClient(config, createLogger("silent"), REQUEST_TIMEOUT_MS);
});
after(async () => {
  await github.close();
});

test("a run attempt is asked by number and read with its event and head repository", async () => {
  const jobs = runOfJobs(RUN, 1, { index: 0, runnerName: "r", runAttempt: 2, headBranch: "main" });
  github.addRun(REPOSITORY, RUN, jobs, { event: "pull_request", headRepository: "mallory/app" });

  const run = await client.runAttempt(INSTALLATION, REPOSITORY, RUN, 2, signal());

  assert.deepEqual(
    [run.id, run.runAttempt, run.event, run.headRepository],
    [RUN, 2, "pull_request", "mallory/app"],
  );
  assert.equal(github.calls.at(-1)?.path, `/repos/${REPOSITORY}/actions/runs/${RUN}/attempts/2`);
});

test("pull requests are listed by head in every state", async () => {
  const pull = {
    number: 9,
    head: "mallory:main",
    headSha: HEAD_SHA,
    baseRef: "main",
    baseRepository: REPOSITORY,
  };
  github.addPull(REPOSITORY, pull);

  const pulls = await client.pullRequestsByHead(INSTALLATION, REPOSITORY, "mallory:main", signal());

  assert.deepEqual(pulls, [
    { number: 9, headSha: HEAD_SHA, baseRef: "main", baseRepository: REPOSITORY },
  ]);
  assert.deepEqual(github.calls.at(-1)?.query, {
    head: "mallory:main",
    state: "all",
    per_page: "100",
  });
});

test("a ref with slashes in its name is found, an absent one is false, a 500 throws", async () => {
  github.addRef(REPOSITORY, "refs/heads/feature/deep/x");

  assert.equal(
    await client.refExists(INSTALLATION, REPOSITORY, "refs/heads/feature/deep/x", signal()),
    true,
  );
  assert.equal(github.calls.at(-1)?.path, `/repos/${REPOSITORY}/git/ref/heads/feature/deep/x`);
  assert.equal(
    await client.refExists(INSTALLATION, REPOSITORY, "refs/tags/feature/deep/x", signal()),
    false,
  );
  github.fail("git_ref", { status: 500, times: 1 });
  await assert.rejects(
    client.refExists(INSTALLATION, REPOSITORY, "refs/heads/main", signal()),
    GitHubApiError,
  );
});
