/**
 * With GHA_CACHE_RESULTS_UPSTREAM_URL set, results-service calls that are not cache calls
 * (artifacts) go on to a fake upstream on 127.0.0.1, unchanged and streaming both ways; cache
 * calls never do.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from "node:http";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { MiB } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const ARTIFACT_SERVICE = "/twirp/github.actions.results.api.v1.ArtifactService";
const CACHE_SERVICE = "/twirp/github.actions.results.api.v1.CacheService";
const LARGE_BODY_BYTES = 24 * MiB;
const UPSTREAM_STATUS = 207;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

let upstream: Server;
let server: TestServer;
const received: Received[] = [];

before(async () => {
  // Echoes every body back as it arrives, and records what it got.
  upstream = createServer((request, response) => {
    const hash = createHash("sha256");
    let bytes = 0;
    if (request.url?.endsWith("/Gzipped")) {
      response.writeHead(200, { "content-encoding": "gzip", "content-type": "application/json" });
      response.end(gzipSync('{"zipped":true}'));
      return;
    }
    response.writeHead(UPSTREAM_STATUS, {
      "content-type": "application/octet-stream",
      "x-upstream": "fake",
    });
    request.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      response.write(chunk);
    });
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        bytes,
        sha256: hash.digest("hex"),
      });
      response.end();
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const port = (upstream.address() as { port: number }).port;
  server = await startTestServer({ GHA_CACHE_RESULTS_UPSTREAM_URL: `http://127.0.0.1:${port}` });
});

after(async () => {
  await server.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

test("a large artifact body streams to the upstream and back byte-exact, with status and headers", async () => {
  const body = randomBytes(LARGE_BODY_BYTES);
  const answer = await fetch(`${server.url}${ARTIFACT_SERVICE}/CreateArtifact?attempt=1`, {
    method: "POST",
    headers: {
      authorization: "Bearer github-own-token",
      "content-type": "application/json",
      "x-custom": "kept",
    },
    body,
  });
  const echoed = new Uint8Array(await answer.arrayBuffer());

  assert.equal(answer.status, UPSTREAM_STATUS);
  assert.equal(answer.headers.get("x-upstream"), "fake");
  assert.equal(digest(echoed), digest(body));
  const got = received.at(-1)!;
  assert.equal(got.method, "POST");
  assert.equal(got.url, `${ARTIFACT_SERVICE}/CreateArtifact?attempt=1`);
  assert.equal(got.headers.authorization, "Bearer github-own-token");
  assert.equal(got.headers["x-custom"], "kept");
  assert.equal(got.bytes, LARGE_BODY_BYTES);
  assert.equal(got.sha256, digest(body));
});

test("the pass-through is logged as method, path without query, and status only", async () => {
  await fetch(`${server.url}${ARTIFACT_SERVICE}/ListArtifacts?secret=hidden`, {
    method: "POST",
    body: "{}",
  });

  const line = server.logs.filter((entry) => entry.event === "results_passthrough").at(-1);
  assert.equal(line?.path, `${ARTIFACT_SERVICE}/ListArtifacts`);
  assert.equal(line?.status, UPSTREAM_STATUS);
  assert.ok(
    !server.rawLogs.some((raw) => raw.includes("hidden") || raw.includes("github-own-token")),
  );
});

test("a compressed answer reaches the caller as the upstream sent it, not decoded", async () => {
  const raw = await new Promise<{ encoding: string | undefined; bytes: Buffer }>(
    (resolve, reject) => {
      const outgoing = httpRequest(
        `${server.url}${ARTIFACT_SERVICE}/Gzipped`,
        { method: "POST" },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              encoding: response.headers["content-encoding"],
              bytes: Buffer.concat(chunks),
            }),
          );
        },
      );
      outgoing.on("error", reject);
      outgoing.end("{}");
    },
  );

  assert.equal(raw.encoding, "gzip");
  assert.deepEqual(raw.bytes, gzipSync('{"zipped":true}'));
});

test("cache calls are answered here and never reach the upstream", async () => {
  const before = received.length;
  const lookup = await fetch(`${server.url}${CACHE_SERVICE}/GetCacheEntryDownloadURL`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: "k", version: "v" }),
  });
  const other = await fetch(`${server.url}${CACHE_SERVICE}/Anything`, { method: "GET" });

  assert.equal(lookup.status, 401);
  assert.equal(other.status, 404);
  assert.equal(((await other.json()) as { code: string }).code, "bad_route");
  assert.equal(received.length, before);
});

test("an upstream that is down is a 502 with a message that names no address", async () => {
  const down = await startTestServer({ GHA_CACHE_RESULTS_UPSTREAM_URL: "http://127.0.0.1:9" });
  try {
    const answer = await fetch(`${down.url}${ARTIFACT_SERVICE}/CreateArtifact`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(answer.status, 502);
    assert.doesNotMatch(await answer.text(), /127\.0\.0\.1/);
  } finally {
    await down.close();
  }
});

test("without an upstream, other Twirp services are bad_route as before", async () => {
  const plain = await startTestServer();
  try {
    const answer = await fetch(`${plain.url}${ARTIFACT_SERVICE}/CreateArtifact`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(answer.status, 404);
  } finally {
    await plain.close();
  }
});
