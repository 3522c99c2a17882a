/**
 * Bad input and conflicts on the v1 API: each answered with a clear 4xx and a JSON message,
 * and none of them changes anything (checked against the metadata store itself).
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { GiB } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { tempDir } from "../helpers/trees.js";
import {
  messageOf,
  runnerOnBranch,
  said,
  v1Call,
  V1Client,
  warnings,
  type RawResponse,
} from "./v1-client.js";

const REPOSITORY = "octo/errors";
const OTHER_REPOSITORY = "octo/elsewhere";
const VERSION = "b".repeat(64);
const OCTET_STREAM = { "content-type": "application/octet-stream" };
/** How long the server may take to notice a client that went away. */
const SETTLE_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 10;

let server: TestServer;
let token: string;
let otherRepositoryToken: string;
let featureToken: string;
let workspace: string;
let runnerTemp: string;

before(async () => {
  server = await startTestServer();
  token = (await runnerOnBranch(server, "main-runner", REPOSITORY, "main")).token;
  featureToken = (await runnerOnBranch(server, "feature-runner", REPOSITORY, "feature")).token;
  otherRepositoryToken = (await runnerOnBranch(server, "other-runner", OTHER_REPOSITORY, "main"))
    .token;
  workspace = await tempDir("workspace");
  runnerTemp = await tempDir("runner-temp");
});

after(async () => {
  await server.close();
  await rm(workspace, { recursive: true, force: true });
  await rm(runnerTemp, { recursive: true, force: true });
});

const call = (method: string, resource: string, body?: unknown, headers?: Record<string, string>) =>
  v1Call(server.url, token, method, resource, body, headers);

/** Every entry and part the store holds, to show a refused request changed nothing. */
async function storeState(): Promise<unknown> {
  const db = server.server.services.db;
  return {
    entries: await db.selectFrom("cache_entries").selectAll().orderBy("id").execute(),
    parts: await db
      .selectFrom("entry_parts")
      .selectAll()
      .orderBy("entry_id")
      .orderBy("offset")
      .execute(),
  };
}

async function reserve(key: string, cacheSize: number | undefined, as = token): Promise<number> {
  const response = await v1Call(server.url, as, "POST", "caches", {
    key,
    version: VERSION,
    cacheSize,
  });
  assert.equal(response.status, 201, messageOf(response));
  const cacheId = (response.body as { cacheId: number }).cacheId;
  assert.ok(cacheId > 0);
  return cacheId;
}

/** Sends a request that must be refused with `status`, and checks the store is unchanged. */
async function refused(
  status: number,
  message: RegExp,
  send: () => Promise<RawResponse>,
): Promise<void> {
  const before = await storeState();
  const response = await send();
  assert.equal(response.status, status, messageOf(response));
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  assert.match(messageOf(response), message);
  assert.deepEqual(await storeState(), before);
}

test("a second save of the same key and version is refused by the real client", async () => {
  const dir = path.join(workspace, "twice");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "file"), "content");
  const client = new V1Client(server.url, token, workspace, runnerTemp);
  const first = await client.save([dir], "twice");
  assert.ok(first.value > 0, warnings(first).join("; "));

  const second = await client.save([dir], "twice");
  assert.equal(second.value, -1);
  assert.ok(
    said(second, "Cache already exists. Scope: refs/heads/main, Key: twice"),
    second.output.join("\n"),
  );
});

test("a second reserve while the first is still uploading is 409 with GitHub's typeKey", async () => {
  await reserve("in-flight", 10);
  await refused(
    409,
    /^Cache already exists\. Scope: refs\/heads\/main, Key: in-flight, Version: b+$/,
    async () => {
      const response = await call("POST", "caches", {
        key: "in-flight",
        version: VERSION,
        cacheSize: 10,
      });
      assert.equal(
        (response.body as { typeKey?: string }).typeKey,
        "ArtifactCacheItemAlreadyExistsException",
      );
      return response;
    },
  );
});

test("the same key and version may be saved once per branch", async () => {
  await reserve("per-branch", 10);
  await reserve("per-branch", 10, featureToken);
});

test("a commit whose size does not match the bytes received is 400 and the entry never hits", async () => {
  const cacheId = await reserve("short", undefined);
  const chunk = await call("PATCH", `caches/${cacheId}`, Buffer.from("0123456789"), {
    ...OCTET_STREAM,
    "content-range": "bytes 0-9/*",
  });
  assert.equal(chunk.status, 204, messageOf(chunk));

  await refused(400, /received 10 bytes but the commit says 12/, () =>
    call("POST", `caches/${cacheId}`, { size: 12 }),
  );
  const lookup = await call("GET", `cache?keys=short&version=${VERSION}`);
  assert.equal(lookup.status, 204);
});

test("a commit that contradicts the reserved size is 400 naming both sizes", async () => {
  const cacheId = await reserve("declared", 10);
  await refused(400, /size 9 does not match the 10 bytes reserved/, () =>
    call("POST", `caches/${cacheId}`, { size: 9 }),
  );
});

test("a commit with bytes missing in the middle is 400 naming the gap", async () => {
  const cacheId = await reserve("gap", 20);
  for (const [start, end] of [
    [0, 4],
    [10, 19],
  ] as const) {
    const response = await call("PATCH", `caches/${cacheId}`, Buffer.alloc(end - start + 1, 1), {
      ...OCTET_STREAM,
      "content-range": `bytes ${start}-${end}/*`,
    });
    assert.equal(response.status, 204);
  }
  await refused(400, /bytes 5-9 were never uploaded/, () =>
    call("POST", `caches/${cacheId}`, { size: 20 }),
  );
});

test("a re-sent chunk replaces the earlier copy", async () => {
  const cacheId = await reserve("resent", 4);
  for (const content of ["xxxx", "abcd"]) {
    const response = await call("PATCH", `caches/${cacheId}`, Buffer.from(content), {
      ...OCTET_STREAM,
      "content-range": "bytes 0-3/*",
    });
    assert.equal(response.status, 204);
  }
  assert.equal((await call("POST", `caches/${cacheId}`, { size: 4 })).status, 204);
  const hit = await call("GET", `cache?keys=resent&version=${VERSION}`);
  const download = await fetch((hit.body as { archiveLocation: string }).archiveLocation);
  assert.equal(await download.text(), "abcd");
});

test("chunks sent all at once, in reverse order and one of them twice, assemble in offset order", async () => {
  const archive = Buffer.from("the quick brown fox jumps over the lazy dog");
  const chunkBytes = 5;
  const cacheId = await reserve("parallel", archive.length);
  const offsets = Array.from(
    { length: Math.ceil(archive.length / chunkBytes) },
    (_, i) => i * chunkBytes,
  ).reverse();
  const sends = [...offsets, offsets[0] ?? 0].map((start) => {
    const end = Math.min(start + chunkBytes, archive.length) - 1;
    return call("PATCH", `caches/${cacheId}`, archive.subarray(start, end + 1), {
      ...OCTET_STREAM,
      "content-range": `bytes ${start}-${end}/*`,
    });
  });
  for (const response of await Promise.all(sends))
    assert.equal(response.status, 204, messageOf(response));
  assert.equal((await call("POST", `caches/${cacheId}`, { size: archive.length })).status, 204);
  const hit = await call("GET", `cache?keys=parallel&version=${VERSION}`);
  const download = await fetch((hit.body as { archiveLocation: string }).archiveLocation);
  assert.ok(Buffer.from(await download.arrayBuffer()).equals(archive));
});

test("a declared size over the entry limit is 400", async () => {
  await refused(400, /over the limit/, () =>
    call("POST", "caches", { key: "huge", version: VERSION, cacheSize: 11 * GiB }),
  );
});

test("lookups with bad keys or no version are 400 with a message", async () => {
  const cases: [string, RegExp][] = [
    [`cache?keys=${"k".repeat(513)}&version=${VERSION}`, /513 characters long; the limit is 512/],
    [
      `cache?keys=${Array.from({ length: 11 }, (_, i) => `k${i}`).join(",")}&version=${VERSION}`,
      /11 keys given; at most 10/,
    ],
    ["cache?keys=deps", /version is required/],
    [`cache?keys=&version=${VERSION}`, /key is required/],
    [`cache?keys=a,,b&version=${VERSION}`, /restore key 1 is required/],
    [`cache?keys=a&keys=b&version=${VERSION}`, /keys must be given once/],
    ["caches", /key is required/],
  ];
  for (const [resource, message] of cases) await refused(400, message, () => call("GET", resource));
});

test("reserves with bad keys, bad sizes or bad JSON are 400 with a message", async () => {
  const cases: [unknown, RegExp][] = [
    [{ key: "k".repeat(513), version: VERSION }, /513 characters long/],
    [{ key: "a,b", version: VERSION }, /must not contain a comma/],
    [{ key: "deps" }, /version is required/],
    [{ key: "deps", version: VERSION, cacheSize: -1 }, /cacheSize must be a whole number of bytes/],
    [
      { key: "deps", version: VERSION, cacheSize: "10" },
      /cacheSize must be a whole number of bytes/,
    ],
    [[1, 2], /must be a JSON object/],
  ];
  for (const [body, message] of cases)
    await refused(400, message, () => call("POST", "caches", body));
  await refused(400, /JSON/, () =>
    call("POST", "caches", "{not json", { "content-type": "application/json" }),
  );
  await refused(400, /size must be a whole number/, () =>
    call("POST", "caches/1", { size: "many" }),
  );
});

test("chunks with a missing or malformed Content-Range are 400 and store nothing", async () => {
  const cacheId = await reserve("bad-range", 10);
  const ranges: [string | undefined, RegExp][] = [
    [undefined, /Content-Range header is required/],
    ["bytes 0-9", /not of the form bytes <start>-<end>\/\*/],
    ["bytes=0-9/*", /not of the form/],
    ["bytes 9-0/*", /end before its start/],
    ["bytes 0-9/5", /beyond the total/],
  ];
  for (const [range, message] of ranges) {
    const headers =
      range === undefined ? OCTET_STREAM : { ...OCTET_STREAM, "content-range": range };
    await refused(400, message, () =>
      call("PATCH", `caches/${cacheId}`, Buffer.alloc(10), headers),
    );
  }
});

test("a chunk whose body does not match its Content-Range is refused and stores nothing", async () => {
  const cacheId = await reserve("bad-body", 10);
  const range = { ...OCTET_STREAM, "content-range": "bytes 0-9/*" };
  await refused(400, /Content-Length is 4 but Content-Range covers 10 bytes/, () =>
    call("PATCH", `caches/${cacheId}`, Buffer.alloc(4), range),
  );
  await refused(400, /beyond the entry's 10-byte size/, () =>
    call("PATCH", `caches/${cacheId}`, Buffer.alloc(11), {
      ...OCTET_STREAM,
      "content-range": "bytes 0-10/*",
    }),
  );
  await refused(
    415,
    /must be sent as Content-Type: application\/octet-stream, got text\/plain/,
    () =>
      call("PATCH", `caches/${cacheId}`, Buffer.alloc(10), {
        ...range,
        "content-type": "text/plain",
      }),
  );
  await refused(415, /got none/, () =>
    call("PATCH", `caches/${cacheId}`, Buffer.alloc(10), { "content-range": "bytes 0-9/*" }),
  );
});

/** Sends a chunk with chunked transfer encoding, as the official client does. */
function sendChunked(cacheId: number, range: string, pieces: Buffer[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/_apis/artifactcache/caches/${cacheId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, ...OCTET_STREAM, "content-range": range },
    });
    req.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (piece: string) => (text += piece));
      response.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        resolve({
          status: response.statusCode ?? 0,
          headers,
          body: text ? JSON.parse(text) : undefined,
        });
      });
    });
    req.on("error", reject);
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

test("a chunked body longer or shorter than its Content-Range is 400 and stores nothing", async () => {
  const cacheId = await reserve("chunked-mismatch", 10);
  await refused(400, /longer than the 10 bytes announced/, () =>
    sendChunked(cacheId, "bytes 0-9/*", [Buffer.alloc(6), Buffer.alloc(6)]),
  );
  await refused(400, /body has 4 bytes but 10 were announced/, () =>
    sendChunked(cacheId, "bytes 0-9/*", [Buffer.alloc(4)]),
  );
  const fits = await sendChunked(cacheId, "bytes 0-9/*", [Buffer.alloc(5), Buffer.alloc(5)]);
  assert.equal(fits.status, 204, messageOf(fits));
});

test("a chunk whose client goes away mid-body stores nothing and the upload can go on", async () => {
  const cacheId = await reserve("abandoned-chunk", 10);
  const before = await storeState();
  await new Promise<void>((resolve) => {
    const req = request(`${server.url}/_apis/artifactcache/caches/${cacheId}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${token}`,
        ...OCTET_STREAM,
        "content-range": "bytes 0-9/*",
      },
    });
    req.on("error", () => resolve());
    req.write(Buffer.alloc(4), () => setImmediate(() => req.destroy()));
  });
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!server.logs.some((line) => line.event === "v1_client_gone") && Date.now() < deadline) {
    await delay(POLL_INTERVAL_MS);
  }
  assert.ok(server.logs.some((line) => line.event === "v1_client_gone"));
  assert.ok(!server.logs.some((line) => line.event === "v1_request_failed"));
  assert.deepEqual(await storeState(), before);
  const retried = await sendChunked(cacheId, "bytes 0-9/*", [Buffer.alloc(10)]);
  assert.equal(retried.status, 204, messageOf(retried));
});

test("a JSON body far larger than any client sends is 413", async () => {
  const padding = "x".repeat(64 * 1024);
  await refused(413, /too large/i, () =>
    call("POST", "caches", { key: "padded", version: VERSION, padding }),
  );
});

test("a hit records when and by which runner the entry was read", async () => {
  const cacheId = await reserve("read-later", 0);
  assert.equal((await call("POST", `caches/${cacheId}`, { size: 0 })).status, 204);
  const readBy = (await runnerOnBranch(server, "reader", REPOSITORY, "feature-reader")).token;
  const before = Date.now();
  const hit = await v1Call(server.url, readBy, "GET", `cache?keys=read-later&version=${VERSION}`);
  assert.equal(hit.status, 200);
  const row = await server.server.services.db
    .selectFrom("cache_entries")
    .innerJoin("runners", "runners.id", "cache_entries.last_accessed_by")
    .select(["last_accessed_at", "runners.name"])
    .where("cache_entries.id", "=", cacheId)
    .executeTakeFirstOrThrow();
  assert.equal(row.name, "reader");
  assert.ok(Number(row.last_accessed_at) >= before);
});

test("a chunk announcing more than the chunk limit is refused before its body is read", async () => {
  const cacheId = await reserve("oversized", undefined);
  const url = new URL(`${server.url}/_apis/artifactcache/caches/${cacheId}`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(url, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${token}`,
        ...OCTET_STREAM,
        "content-range": "bytes 0-199999999/*",
        "content-length": "200000000",
      },
    });
    req.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    // Headers only: the answer must come without a single body byte sent.
    req.flushHeaders();
  });
  assert.equal(status, 413);
});

test("a chunk or commit for an unknown id is 404 and changes nothing", async () => {
  const range = { ...OCTET_STREAM, "content-range": "bytes 0-3/*" };
  await refused(404, /cache entry 999999 does not exist/, () =>
    call("PATCH", "caches/999999", Buffer.alloc(4), range),
  );
  await refused(404, /cache entry 999999 does not exist/, () =>
    call("POST", "caches/999999", { size: 4 }),
  );
  await refused(400, /cache id "abc" must be a positive whole number/, () =>
    call("POST", "caches/abc", { size: 4 }),
  );
});

test("another repository's upload is not found, another branch's is forbidden", async () => {
  const cacheId = await reserve("owned", 4);
  const range = { ...OCTET_STREAM, "content-range": "bytes 0-3/*" };
  await refused(404, /does not exist/, () =>
    v1Call(server.url, otherRepositoryToken, "PATCH", `caches/${cacheId}`, Buffer.alloc(4), range),
  );
  await refused(404, /does not exist/, () =>
    v1Call(server.url, otherRepositoryToken, "POST", `caches/${cacheId}`, { size: 4 }),
  );
  await refused(403, /reserved for another scope/, () =>
    v1Call(server.url, featureToken, "PATCH", `caches/${cacheId}`, Buffer.alloc(4), range),
  );
  await refused(403, /reserved for another scope/, () =>
    v1Call(server.url, featureToken, "POST", `caches/${cacheId}`, { size: 4 }),
  );
});

test("another branch's committed entry is forbidden, not reported as committed", async () => {
  const cacheId = await reserve("sealed-elsewhere", 4);
  const range = { ...OCTET_STREAM, "content-range": "bytes 0-3/*" };
  assert.equal((await call("PATCH", `caches/${cacheId}`, Buffer.from("seal"), range)).status, 204);
  assert.equal((await call("POST", `caches/${cacheId}`, { size: 4 })).status, 204);
  await refused(403, /reserved for another scope/, () =>
    v1Call(server.url, featureToken, "PATCH", `caches/${cacheId}`, Buffer.alloc(4), range),
  );
  await refused(403, /reserved for another scope/, () =>
    v1Call(server.url, featureToken, "POST", `caches/${cacheId}`, { size: 4 }),
  );
});

test("a committed entry takes no more chunks and no second commit", async () => {
  const cacheId = await reserve("sealed", 4);
  const range = { ...OCTET_STREAM, "content-range": "bytes 0-3/*" };
  assert.equal((await call("PATCH", `caches/${cacheId}`, Buffer.from("seal"), range)).status, 204);
  assert.equal((await call("POST", `caches/${cacheId}`, { size: 4 })).status, 204);
  await refused(409, /already committed/, () =>
    call("PATCH", `caches/${cacheId}`, Buffer.from("evil"), range),
  );
  await refused(409, /already committed/, () => call("POST", `caches/${cacheId}`, { size: 4 }));
});

test("the list call names the committed entries of the key in readable scopes", async () => {
  const cacheId = await reserve("listed", 4);
  await call("PATCH", `caches/${cacheId}`, Buffer.from("list"), {
    ...OCTET_STREAM,
    "content-range": "bytes 0-3/*",
  });
  await call("POST", `caches/${cacheId}`, { size: 4 });
  const listed = await call("GET", "caches?key=listed");
  assert.equal(listed.status, 200);
  const body = listed.body as { totalCount: number; artifactCaches: Record<string, unknown>[] };
  assert.equal(body.totalCount, 1);
  assert.equal(body.artifactCaches[0]?.cacheKey, "listed");
  assert.equal(body.artifactCaches[0]?.scope, "refs/heads/main");
  assert.equal(body.artifactCaches[0]?.cacheVersion, VERSION);
  assert.ok(!JSON.stringify(body).includes("archiveLocation"));
  const elsewhere = await v1Call(server.url, otherRepositoryToken, "GET", "caches?key=listed");
  assert.deepEqual(elsewhere.body, { totalCount: 0, artifactCaches: [] });
});

test("no log line carries a runner token or a URL signature", () => {
  for (const line of server.rawLogs) {
    for (const secret of [token, featureToken, otherRepositoryToken]) {
      assert.ok(!line.includes(secret), `token in log line: ${line.slice(0, 200)}`);
    }
    assert.ok(!line.includes("sig="), `signature in log line: ${line.slice(0, 200)}`);
  }
});
