import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runScopes, type RunFacts } from "../../src/scope/run-scopes.js";

function run(overrides: Partial<RunFacts>): RunFacts {
  return {
    runId: 1,
    runAttempt: 1,
    event: "push",
    repository: "octo/app",
    headBranch: "feature",
    headRepository: "octo/app",
    pullRequest: null,
    refKind: "branch",
    ...overrides,
  };
}

describe("scopes by trigger event", () => {
  test("a push to a branch writes that branch and reads it, then the default branch", () => {
    const scopes = runScopes(run({}), "main");
    assert.equal(scopes.writeScope, "refs/heads/feature");
    assert.deepEqual(scopes.readScopes, ["refs/heads/feature", "refs/heads/main"]);
  });

  test("a push to the default branch reads it once", () => {
    const scopes = runScopes(run({ headBranch: "main" }), "main");
    assert.equal(scopes.writeScope, "refs/heads/main");
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
  });

  test("a workflow_dispatch on a branch behaves like a push to it", () => {
    const scopes = runScopes(run({ event: "workflow_dispatch", headBranch: "dev" }), "main");
    assert.equal(scopes.writeScope, "refs/heads/dev");
    assert.deepEqual(scopes.readScopes, ["refs/heads/dev", "refs/heads/main"]);
  });

  test("a push of a tag writes the tag, never the branch of the same name", () => {
    const scopes = runScopes(run({ headBranch: "v1", refKind: "tag" }), "main");
    assert.equal(scopes.writeScope, "refs/tags/v1");
    assert.deepEqual(scopes.readScopes, ["refs/tags/v1", "refs/heads/main"]);
  });

  test("a release run writes its tag", () => {
    const scopes = runScopes(
      run({ event: "release", headBranch: "v2.0.0", refKind: "unknown" }),
      "main",
    );
    assert.equal(scopes.writeScope, "refs/tags/v2.0.0");
    assert.deepEqual(scopes.readScopes, ["refs/tags/v2.0.0", "refs/heads/main"]);
  });

  test("a name that is both a branch and a tag may not write and reads only the default branch", () => {
    const scopes = runScopes(run({ headBranch: "release", refKind: "ambiguous" }), "main");
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
    assert.match(scopes.reason, /both a branch and a tag/);
  });

  test("a name that cannot be told to be a branch or a tag may not write", () => {
    const scopes = runScopes(run({ refKind: "unknown" }), "main");
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
  });

  test("a pull_request run writes its merge ref and reads it, the base branch, then the default", () => {
    const scopes = runScopes(
      run({
        event: "pull_request",
        headBranch: "topic",
        pullRequest: { number: 7, baseRef: "release-1", baseRepository: "octo/app" },
      }),
      "main",
    );
    assert.equal(scopes.writeScope, "refs/pull/7/merge");
    assert.deepEqual(scopes.readScopes, [
      "refs/pull/7/merge",
      "refs/heads/release-1",
      "refs/heads/main",
    ]);
  });

  test("a fork pull request whose head branch is named main writes only its merge ref", () => {
    const scopes = runScopes(
      run({
        event: "pull_request",
        headBranch: "main",
        headRepository: "mallory/app",
        pullRequest: { number: 9, baseRef: "main", baseRepository: "octo/app" },
      }),
      "main",
    );
    assert.equal(scopes.writeScope, "refs/pull/9/merge");
    assert.deepEqual(scopes.readScopes, ["refs/pull/9/merge", "refs/heads/main"]);
  });

  test("a pull request run whose pull request is unknown may not write", () => {
    const scopes = runScopes(run({ event: "pull_request", headRepository: "mallory/app" }), "main");
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
  });

  test("a base branch in another repository is not read", () => {
    const scopes = runScopes(
      run({
        event: "pull_request",
        pullRequest: { number: 3, baseRef: "dev", baseRepository: "other/app" },
      }),
      "main",
    );
    assert.deepEqual(scopes.readScopes, ["refs/pull/3/merge", "refs/heads/main"]);
  });

  test("a base branch whose repository GitHub did not name is not read", () => {
    const scopes = runScopes(
      run({
        event: "pull_request",
        pullRequest: { number: 4, baseRef: "dev", baseRepository: null },
      }),
      "main",
    );
    assert.deepEqual(scopes.readScopes, ["refs/pull/4/merge", "refs/heads/main"]);
  });

  for (const event of ["pull_request_target", "issue_comment", "workflow_run"]) {
    test(`a ${event} run is read-only on the default branch`, () => {
      const scopes = runScopes(run({ event, headBranch: "main" }), "main");
      assert.equal(scopes.writeScope, null);
      assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
    });
  }

  for (const event of ["schedule", "repository_dispatch"]) {
    test(`a ${event} run writes and reads the default branch`, () => {
      const scopes = runScopes(run({ event, headBranch: "main" }), "main");
      assert.equal(scopes.writeScope, "refs/heads/main");
      assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
    });
  }

  test("a push-like run from another repository is read-only on the default branch", () => {
    const scopes = runScopes(run({ headBranch: "main", headRepository: "mallory/app" }), "main");
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
  });

  test("an unknown event may not write and reads only the default branch", () => {
    const scopes = runScopes(run({ event: "something_new" }), "main");
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, ["refs/heads/main"]);
    assert.match(scopes.reason, /unknown event/);
  });

  test("with no default branch known, a read-only run reads nothing", () => {
    const scopes = runScopes(run({ event: "pull_request_target" }), null);
    assert.equal(scopes.writeScope, null);
    assert.deepEqual(scopes.readScopes, []);
  });
});
