/**
 * Resource abuse: many keys, huge keys, deep JSON, garbage protobuf, thousands of staged blocks
 * and block lists that repeat a block. Nothing may crash the process, answer 500 for a client
 * mistake, or hold the event loop for long. Every loop here is bounded.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { twirp } from "../protocol/v2-client.js";
import {
  assertNoSecrets,
  errorLines,
  http,
  nextId,
  secretsOf,
  v1,
  v1Lookup,
  VERSION,
} from "./kit.js";

let server: TestServer;
let token: string;
const urls: string[] = [];
const REPO = "octo/abuse";

before(async () => {
  server = await startTestServer();
  const reg = await server.registerRunner("abuser", REPO);
  token = reg.token;
  const jobId = nextId();
  assert.equal(
    await server.jobEvent({
      action: "in_progress",
      jobId,
      runId: jobId * 10,
      repository: REPO,
      headBranch: "main",
      runnerName: "abuser",
    }),
    200,
  );
});

after(async () => {
  assertNoSecrets(server, secretsOf([token], urls));
  await server.close();
});

const is4xx = (status: number) => status >= 400 && status < 500;

test("10k keys in one lookup (v1 and v2): 4xx, not 500", async () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
  const r = await v1Lookup(server.url, token, keys);
  assert.ok(is4xx(r.status), String(r.status));
  const few = Array.from({ length: 10_000 }, () => "k");
  const r1 = await v1Lookup(server.url, token, few);
  assert.ok(is4xx(r1.status), String(r1.status));
  const t = await twirp(server.url, token, "GetCacheEntryDownloadURL", {
    key: "k",
    restore_keys: few,
    version: VERSION,
  });
  assert.ok(is4xx(t.status), String(t.status));
});

test("1 MB key (v1 lookup, v1 reserve, v2 create): 4xx, not 500", async () => {
  const huge = "k".repeat(1024 * 1024);
  const r = await v1Lookup(server.url, token, [huge]).catch(() => ({ status: 431 }));
  assert.ok(is4xx(r.status), String(r.status));
  const res = await v1(server.url, token, "POST", "caches", { key: huge, version: VERSION });
  assert.ok(is4xx(res.status), String(res.status));
  const t = await twirp(server.url, token, "CreateCacheEntry", { key: huge, version: VERSION });
  assert.ok(is4xx(t.status), String(t.status));
  const k513 = "k".repeat(513);
  assert.equal(
    (await v1(server.url, token, "POST", "caches", { key: k513, version: VERSION })).status,
    400,
  );
  assert.equal(
    (await twirp(server.url, token, "CreateCacheEntry", { key: k513, version: VERSION })).status,
    400,
  );
});

test("deeply nested JSON bodies (reserve, commit, twirp): 4xx, not 500", async () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  const obj = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  for (const body of [deep(8000), obj(3000)]) {
    const r = await v1(server.url, token, "POST", "caches", body);
    assert.ok(is4xx(r.status), `reserve ${r.status}`);
  }
  for (const body of [deep(32_000), obj(10_000), `{"key":${deep(10_000)},"version":"v"}`]) {
    const t = await twirp(server.url, token, "CreateCacheEntry", body);
    assert.ok(is4xx(t.status), `twirp ${t.status} ${JSON.stringify(t.json)}`);
  }
  const wrongTypes = [
    { key: 5, version: VERSION },
    { key: ["a"], version: VERSION },
    { key: "a", version: { x: 1 } },
    { key: "a", version: VERSION, size_bytes: "-1" },
  ];
  for (const body of wrongTypes) {
    const t = await twirp(server.url, token, "CreateCacheEntry", body);
    assert.ok(
      is4xx(t.status) || t.json.ok !== undefined,
      `twirp ${t.status} ${JSON.stringify(t.json)}`,
    );
  }
  for (const size of ["1e400", "-0", "9".repeat(400), "0x10"]) {
    const t = await twirp(server.url, token, "FinalizeCacheEntryUpload", {
      key: "never-reserved",
      version: VERSION,
      size_bytes: size,
    });
    assert.ok(
      is4xx(t.status) || t.json.ok === false || t.json.ok === undefined,
      `finalize ${size}: ${t.status} ${JSON.stringify(t.json)}`,
    );
  }
});

test("garbage protobuf bodies: Twirp malformed (400), not 500", async () => {
  const samples = [
    Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    Uint8Array.from([0x0a, 0x03, 0xff, 0xfe, 0xfd]),
    Uint8Array.from([0x07]),
    new Uint8Array(60_000).fill(0x12),
  ];
  for (const bytes of samples) {
    for (const method of [
      "CreateCacheEntry",
      "GetCacheEntryDownloadURL",
      "FinalizeCacheEntryUpload",
    ]) {
      const t = await twirp(server.url, token, method, bytes);
      assert.ok(is4xx(t.status) || t.status === 200, `${method} ${t.status}`);
    }
  }
});

test("thousands of staged blocks and a block list repeating one block 200k times: bounded, server stays responsive", async () => {
  const created = await twirp(server.url, token, "CreateCacheEntry", {
    key: `blocks-${nextId()}`,
    version: VERSION,
  });
  const url = String(created.json.signed_upload_url);
  urls.push(url);
  // 2,000 staged blocks, 50 at a time.
  for (let batch = 0; batch < 40; batch++) {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const id = Buffer.from(`block-${batch * 50 + i}`).toString("base64");
        return http(`${url}&comp=block&blockid=${encodeURIComponent(id)}`, {
          method: "PUT",
          headers: { "content-length": "1" },
          body: "x",
        });
      }),
    );
  }
  const one = Buffer.from("block-0").toString("base64");
  const count = 200_000;
  const list = `<BlockList>${`<Latest>${one}</Latest>`.repeat(count)}</BlockList>`;
  assert.ok(list.length < 8 * 1024 * 1024);
  const before = process.memoryUsage().rss;
  let maxHealthMs = 0;
  let healthDone = false;
  const prober = (async () => {
    while (!healthDone) {
      const t0 = Date.now();
      await http(`${server.url}/healthz`);
      maxHealthMs = Math.max(maxHealthMs, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t0 = Date.now();
  const r = await http(`${url}&comp=blocklist`, {
    method: "PUT",
    headers: { "content-length": String(list.length) },
    body: list,
  });
  const took = Date.now() - t0;
  healthDone = true;
  await prober;
  const grew = (process.memoryUsage().rss - before) / 1024 / 1024;
  console.log(
    `# block list of ${count} repeats: ${r.status} in ${took} ms; rss +${grew.toFixed(0)} MiB; slowest /healthz ${maxHealthMs} ms`,
  );
  assert.ok(r.status === 201 || is4xx(r.status), String(r.status));
  assert.ok(maxHealthMs < 2000, `the event loop was held for ${maxHealthMs} ms by one block list`);
  // Azure caps a blob at 50,000 blocks; the service caps staged blocks at 50,000 but not the list.
  assert.equal(
    r.status,
    400,
    `a ${count}-entry block list was accepted (${took} ms of database work for one 8 MiB request)`,
  );
});

test("no error-level log line for any of the client mistakes above", () => {
  const lines = errorLines(server);
  assert.equal(lines.length, 0, JSON.stringify(lines).slice(0, 3000));
});
