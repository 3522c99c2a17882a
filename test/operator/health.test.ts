/**
 * /healthz tells a load balancer whether this replica can serve: 200 while the metadata store
 * answers, 503 once it does not.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import Fastify from "fastify";
import { migrate, openSqlite } from "../../src/db/database.js";
import { healthRoutes } from "../../src/operator/health.js";

test("healthz answers 200 while the database answers and 503 once it is closed", async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "gha-cache-health-"));
  const db = openSqlite(dataDir);
  await migrate(db);
  const app = Fastify();
  await app.register(healthRoutes, { db });
  try {
    const healthy = await app.inject({ method: "GET", url: "/healthz" });
    assert.equal(healthy.statusCode, 200);
    assert.deepEqual(healthy.json(), { status: "ok" });

    await db.destroy();
    const broken = await app.inject({ method: "GET", url: "/healthz" });
    assert.equal(broken.statusCode, 503);
    assert.equal(broken.json().status, "unavailable");
    assert.match(broken.json().message, /metadata store/);
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
