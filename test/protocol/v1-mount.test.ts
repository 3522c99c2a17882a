/**
 * The v1 API is one plugin with paths relative to its mount point, so it can also be mounted
 * under a path prefix, as on runners whose ACTIONS_CACHE_URL carries a path of its own (the
 * service's own /r/<token>/ mount is tested in v1-path-credential.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { artifactCacheApi } from "../../src/protocol/v1/api.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runnerOnBranch } from "./v1-client.js";

const VERSION = "d".repeat(64);

let server: TestServer;
let mounted: FastifyInstance;
let token: string;

before(async () => {
  server = await startTestServer();
  token = (await runnerOnBranch(server, "mounted-runner", "octo/mounted", "main")).token;
  mounted = Fastify();
  await mounted.register(artifactCacheApi, {
    services: server.server.services,
    prefix: "/some/path",
  });
  await mounted.ready();
});

after(async () => {
  await mounted.close();
  await server.close();
});

test("the same routes answer under a path prefix", async () => {
  const headers = { authorization: `Bearer ${token}` };
  const reserve = await mounted.inject({
    method: "POST",
    url: "/some/path/_apis/artifactcache/caches",
    headers,
    payload: { key: "mounted", version: VERSION, cacheSize: 0 },
  });
  assert.equal(reserve.statusCode, 201, reserve.body);
  const cacheId = (reserve.json() as { cacheId: number }).cacheId;
  const commit = await mounted.inject({
    method: "POST",
    url: `/some/path/_apis/artifactcache/caches/${cacheId}`,
    headers,
    payload: { size: 0 },
  });
  assert.equal(commit.statusCode, 204, commit.body);
  const lookup = await mounted.inject({
    method: "GET",
    url: `/some/path/_apis/artifactcache/cache?keys=mounted&version=${VERSION}`,
    headers,
  });
  assert.equal(lookup.statusCode, 200);
  assert.equal((lookup.json() as { cacheKey: string }).cacheKey, "mounted");
});
