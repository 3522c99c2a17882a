/**
 * GitHub's run, pull request and git-ref answers, read field by field: what the resolver relies
 * on is taken exactly, and a body without it is a bad answer, never a guess.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GitHubApiError } from "../../src/github/errors.js";
import { parsePullRequestList, parseWorkflowRun } from "../../src/github/shapes.js";

const RUN = {
  id: 30433642,
  run_attempt: 2,
  event: "pull_request",
  head_branch: "main",
  head_sha: "acb5820ced9479c074f688cc328bf03f341a511d",
  head_repository: { full_name: "mallory/app" },
  repository: { full_name: "octo/app" },
  pull_requests: [
    {
      number: 7,
      base: { ref: "dev", repo: { id: 1, url: "https://ghe.example/api/v3/repos/octo/app" } },
    },
    { number: 8, base: { ref: "main", repo: { id: 2, name: "app" } } },
  ],
};

test("a run's event, head and listed pull requests are read, a base repository only from its URL", () => {
  const run = parseWorkflowRun(RUN);

  assert.equal(run.event, "pull_request");
  assert.equal(run.runAttempt, 2);
  assert.equal(run.headRepository, "mallory/app");
  assert.equal(run.repository, "octo/app");
  assert.deepEqual(run.pullRequests, [
    { number: 7, baseRef: "dev", baseRepository: "octo/app" },
    { number: 8, baseRef: "main", baseRepository: null },
  ]);
});

test("a run without an event or attempt, or with pull_requests that is not a list, is a bad answer", () => {
  for (const broken of [
    { ...RUN, event: undefined },
    { ...RUN, run_attempt: "2" },
    { ...RUN, pull_requests: {} },
  ]) {
    assert.throws(
      () => parseWorkflowRun(broken),
      (error: unknown) => {
        return error instanceof GitHubApiError && error.kind === "bad_response";
      },
    );
  }
});

test("a pull request list gives each head commit and base repository", () => {
  const pulls = parsePullRequestList([
    { number: 3, head: { sha: "abc" }, base: { ref: "main", repo: { full_name: "octo/app" } } },
  ]);

  assert.deepEqual(pulls, [
    { number: 3, headSha: "abc", baseRef: "main", baseRepository: "octo/app" },
  ]);
  assert.throws(() => parsePullRequestList({ items: [] }), GitHubApiError);
});
