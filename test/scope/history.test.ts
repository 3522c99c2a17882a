/**
 * Old GitHub facts are forgotten after the retention, and forgetting only narrows: a runner whose
 * job was forgotten is refused, and a recent job is untouched.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { HISTORY_RETENTION_MS, pruneHistory } from "../../src/scope/history.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const REPOSITORY = "octo/app";

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server.close();
});

async function rows(table: "jobs" | "runs" | "pushes" | "webhook_deliveries"): Promise<number> {
  const { db } = server.server.services;
  const all = await db.selectFrom(table).selectAll().execute();
  return all.length;
}

test("jobs, run facts, pushes and delivery ids older than the retention are removed; the runner is then refused", async () => {
  const { runner } = await server.registerRunner("runner-old", REPOSITORY);
  const status = await server.jobEvent({
    action: "in_progress",
    jobId: 1,
    runId: 10,
    repository: REPOSITORY,
    headBranch: "main",
    runnerName: "runner-old",
  });
  assert.equal(status, 200);
  const { resolver, db, log } = server.server.services;
  assert.equal((await resolver.resolve({ runner, access: "write" })).writeScope, "refs/heads/main");

  const kept = await pruneHistory(db, log, Date.now() + HISTORY_RETENTION_MS - 60_000);
  assert.deepEqual(kept, { jobs: 0, runs: 0, pushes: 0, deliveries: 0 });

  const pruned = await pruneHistory(db, log, Date.now() + HISTORY_RETENTION_MS + 60_000);

  assert.ok(pruned.jobs >= 1 && pruned.runs >= 1 && pruned.pushes >= 1 && pruned.deliveries >= 3);
  for (const table of ["jobs", "runs", "pushes", "webhook_deliveries"] as const) {
    assert.equal(await rows(table), 0, `${table} emptied`);
  }
  const decision = await resolver.resolve({ runner, access: "write" });
  assert.equal(decision.writeScope, null);
  assert.deepEqual(decision.readScopes, []);
  assert.ok(server.logs.some((line) => line.event === "history_pruned"));
});
