import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestServer } from "../helpers/server.js";

test("a signed in_progress workflow_job makes the runner's job resolvable", async () => {
  const server = await startTestServer();
  try {
    const { runner } = await server.registerRunner("runner-1", "octo/app");
    const status = await server.jobEvent({
      action: "in_progress",
      jobId: 11,
      runId: 101,
      repository: "octo/app",
      headBranch: "feature",
      runnerName: "runner-1",
    });
    assert.equal(status, 200);
    const decision = await server.server.services.resolver.resolve({ runner, access: "write" });
    assert.equal(decision.writeScope, "refs/heads/feature");
    assert.deepEqual(decision.readScopes, ["refs/heads/feature", "refs/heads/main"]);
  } finally {
    await server.close();
  }
});
