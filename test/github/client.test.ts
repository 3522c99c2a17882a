/**
 * The GitHub App installation client against a fake GitHub: App JWTs GitHub would accept,
 * installation tokens reused, pages followed through the `link` header, the API version pinned,
 * rate limits obeyed, slow answers cut off.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, beforeEach, test } from "node:test";
import {
  OctokitGitHubClient,
  GITHUB_API_VERSION,
  type WorkflowJob,
} from "../../src/github/client.js";
import { GitHubApiError } from "../../src/github/errors.js";
import { createLogger } from "../../src/log.js";
import { runOfJobs, startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.js";

const INSTALLATION = 7;
const REPOSITORY = "octo/app";
const RUN = 321;
const REQUEST_TIMEOUT_MS = 2000;
const silent = createLogger("silent");

let github: FakeGitHub;

before(async () => {
  github = await startFakeGitHub();
});
after(async () => {
  await github.close();
});
beforeEach(() => {
  github.calls.length = 0;
  github.clearFaults();
  github.tokenLifetimeMs = 60 * 60 * 1000;
});

function client(
  privateKey = github.privateKeyPem,
  timeoutMs = REQUEST_TIMEOUT_MS,
): OctokitGitHubClient {
  return new OctokitGitHubClient(
    { appId: github.appId, privateKey, apiUrl: github.url },
    silent,
    timeoutMs,
  );
}

async function allJobs(from: OctokitGitHubClient, runId = RUN): Promise<WorkflowJob[]> {
  const jobs: WorkflowJob[] = [];
  for await (const page of from.runJobs(
    INSTALLATION,
    REPOSITORY,
    runId,
    new AbortController().signal,
  ))
    jobs.push(...page);
  return jobs;
}

async function failure(promise: Promise<unknown>): Promise<GitHubApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GitHubApiError, `expected a GitHubApiError, got ${String(error)}`);
  return error;
}

test("every page of a run's jobs is read through the link header, latest attempt only", async () => {
  github.addRun(REPOSITORY, RUN, [
    ...runOfJobs(RUN, 30, { index: 0, runnerName: "old", runAttempt: 1 }),
    ...runOfJobs(RUN, 230, { index: 229, runnerName: "me", runAttempt: 2 }),
  ]);

  const jobs = await allJobs(client());

  assert.equal(jobs.length, 230);
  assert.ok(jobs.every((job) => job.runAttempt === 2));
  assert.equal(jobs.at(-1)?.runnerName, "me");
  assert.deepEqual(
    github.calls.filter((c) => c.route === "jobs").map((c) => c.query.page ?? "1"),
    ["1", "2", "3"],
  );
});

test("one installation token serves many calls, and every call pins the API version", async () => {
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  const shared = client();

  await Promise.all(Array.from({ length: 10 }, () => allJobs(shared)));
  await shared.repository(INSTALLATION, REPOSITORY, new AbortController().signal);

  assert.equal(github.count("access_tokens"), 1);
  assert.ok(github.calls.every((c) => c.apiVersion === GITHUB_API_VERSION));
  assert.equal(github.calls.find((c) => c.route === "access_tokens")?.authorization, "jwt");
  assert.ok(
    github.calls
      .filter((c) => c.route !== "access_tokens")
      .every((c) => c.authorization === "token"),
  );
});

test("a token close to its expiry is replaced before use", async () => {
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  // Inside the refresh margin from the start: each use needs a fresh token.
  github.tokenLifetimeMs = 60 * 1000;
  const shared = client();

  await allJobs(shared);
  await allJobs(shared);

  assert.equal(github.count("access_tokens"), 2);
});

test("an App JWT signed with another key is refused, and the failure names the status", async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const stranger = client(privateKey.export({ type: "pkcs8", format: "pem" }).toString());

  const error = await failure(allJobs(stranger));

  assert.equal(error.kind, "http");
  assert.equal(error.status, 401);
});

test("after a rate-limited answer, no request is sent until GitHub's reset time", async () => {
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  const resetSeconds = Math.floor(Date.now() / 1000) + 300;
  const headers = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetSeconds) };
  github.fail("jobs", { status: 403, headers, times: 1 });
  const shared = client();

  const first = await failure(allJobs(shared));
  const second = await failure(allJobs(shared));

  assert.equal(first.kind, "rate_limited");
  assert.equal(first.retryAt, resetSeconds * 1000);
  assert.equal(second.kind, "rate_limited");
  assert.equal(github.count("jobs"), 1);
});

test("a 403 without rate-limit signs is an ordinary error, not a pause", async () => {
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  github.fail("repository", {
    status: 403,
    message: "Resource not accessible by integration",
    times: 1,
  });
  const shared = client();

  const error = await failure(
    shared.repository(INSTALLATION, REPOSITORY, new AbortController().signal),
  );
  await shared.repository(INSTALLATION, REPOSITORY, new AbortController().signal);

  assert.equal(error.kind, "http");
  assert.equal(error.status, 403);
  assert.equal(github.count("repository"), 2);
});

test("a request slower than the request timeout fails as a timeout", async () => {
  const TIMEOUT_MS = 200;
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  github.fail("jobs", { delayMs: 3000 });

  const error = await failure(allJobs(client(github.privateKeyPem, TIMEOUT_MS)));

  assert.equal(error.kind, "timeout");
});

test("an aborted walk reports the abort, not a GitHub failure", async () => {
  github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 2));
  github.fail("jobs", { delayMs: 3000 });
  const controller = new AbortController();
  const ABORT_AFTER_MS = 100;
  setTimeout(() => controller.abort(new Error("budget")), ABORT_AFTER_MS);

  const walk = (async () => {
    for await (const page of client().runJobs(INSTALLATION, REPOSITORY, RUN, controller.signal))
      void page;
  })();
  const error = await failure(walk);

  assert.equal(error.kind, "aborted");
});
