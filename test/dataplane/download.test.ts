/**
 * The download half of the data plane: signed URLs that open one entry until they expire,
 * whole and ranged reads that are byte-exact across the parts an entry was uploaded in, HEAD
 * for the Azure SDK path, and client aborts that leave no file open.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { MiB } from "../../src/config.js";
import { entryPrefix } from "../../src/stores/blob-store.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { messageOf, runnerOnBranch, v1Call } from "../protocol/v1-client.js";

const REPOSITORY = "octo/downloads";
const VERSION = "c".repeat(64);
/** Part sizes of the ranged entry: uneven, so ranges straddle boundaries at odd offsets. */
const PART_SIZES = [100_000, 150_000, 50_000];
const ARCHIVE_SIZE = PART_SIZES.reduce((sum, size) => sum + size, 0);
/** Large enough that a download cannot finish inside socket buffers before the client aborts. */
const LARGE_PART_BYTES = 8 * MiB;
const LARGE_PART_COUNT = 4;
const FD_SETTLE_TIMEOUT_MS = 5_000;
const FD_POLL_INTERVAL_MS = 25;

let server: TestServer;
let token: string;
let archive: Buffer;
let entryId: number;
let url: URL;

before(async () => {
  server = await startTestServer();
  token = (await runnerOnBranch(server, "downloader", REPOSITORY, "main")).token;
  archive = randomBytes(ARCHIVE_SIZE);
  ({ entryId, url } = await saveEntry("ranged", archive, PART_SIZES));
});

after(async () => {
  await server.close();
});

/** Saves `bytes` through the v1 API in parts of the given sizes; returns its download URL. */
async function saveEntry(
  key: string,
  bytes: Buffer,
  partSizes: number[],
): Promise<{ entryId: number; url: URL }> {
  const reserve = await v1Call(server.url, token, "POST", "caches", {
    key,
    version: VERSION,
    cacheSize: bytes.length,
  });
  const cacheId = (reserve.body as { cacheId: number }).cacheId;
  let offset = 0;
  for (const size of partSizes) {
    const chunk = await v1Call(
      server.url,
      token,
      "PATCH",
      `caches/${cacheId}`,
      bytes.subarray(offset, offset + size),
      {
        "content-type": "application/octet-stream",
        "content-range": `bytes ${offset}-${offset + size - 1}/*`,
      },
    );
    assert.equal(chunk.status, 204, messageOf(chunk));
    offset += size;
  }
  const commit = await v1Call(server.url, token, "POST", `caches/${cacheId}`, {
    size: bytes.length,
  });
  assert.equal(commit.status, 204, messageOf(commit));
  const lookup = await v1Call(server.url, token, "GET", `cache?keys=${key}&version=${VERSION}`);
  return {
    entryId: cacheId,
    url: new URL((lookup.body as { archiveLocation: string }).archiveLocation),
  };
}

function withPath(source: URL, entry: number): URL {
  const moved = new URL(source);
  moved.pathname = `/blobs/download/${entry}`;
  return moved;
}

async function get(target: URL | string, headers: Record<string, string> = {}, method = "GET") {
  const response = await fetch(target, { method, headers });
  return { response, body: Buffer.from(await response.arrayBuffer()) };
}

test("a plain GET answers 200 with the whole archive and the headers clients rely on", async () => {
  const { response, body } = await get(url, { "accept-encoding": "gzip, br" });
  assert.equal(response.status, 200);
  assert.ok(body.equals(archive));
  assert.equal(response.headers.get("content-length"), String(ARCHIVE_SIZE));
  assert.equal(response.headers.get("content-type"), "application/octet-stream");
  assert.equal(response.headers.get("accept-ranges"), "bytes");
  assert.equal(response.headers.get("content-encoding"), null);
  assert.match(response.headers.get("etag") ?? "", new RegExp(`^"${entryId}-\\d+"$`));
  assert.ok(!Number.isNaN(Date.parse(response.headers.get("last-modified") ?? "")));
  assert.match(response.headers.get("x-ms-request-id") ?? "", /^[0-9a-f-]{36}$/);
  assert.ok(response.headers.get("x-ms-version"));
});

test("HEAD answers the size and headers without a body", async () => {
  const { response, body } = await get(url, {}, "HEAD");
  assert.equal(response.status, 200);
  assert.equal(body.length, 0);
  assert.equal(response.headers.get("content-length"), String(ARCHIVE_SIZE));
  assert.equal(response.headers.get("accept-ranges"), "bytes");
  assert.ok(response.headers.get("etag"));
});

test("Range and x-ms-range answer 206 with the exact bytes, across part boundaries", async () => {
  const boundary = PART_SIZES[0] ?? 0;
  const second = boundary + (PART_SIZES[1] ?? 0);
  const cases: [string, number, number][] = [
    [`bytes=${boundary - 10}-${boundary + 9}`, boundary - 10, boundary + 9],
    [`bytes=${boundary - 1}-${second}`, boundary - 1, second],
    [`bytes=${boundary}-${boundary}`, boundary, boundary],
    ["bytes=0-0", 0, 0],
    ["bytes=-10", ARCHIVE_SIZE - 10, ARCHIVE_SIZE - 1],
    [`bytes=-${ARCHIVE_SIZE * 2}`, 0, ARCHIVE_SIZE - 1],
    [`bytes=${second - 5}-`, second - 5, ARCHIVE_SIZE - 1],
    [`bytes=10-${ARCHIVE_SIZE * 2}`, 10, ARCHIVE_SIZE - 1],
  ];
  for (const header of ["range", "x-ms-range"]) {
    for (const [range, start, end] of cases) {
      const { response, body } = await get(url, { [header]: range });
      assert.equal(response.status, 206, `${header}: ${range}`);
      assert.equal(response.headers.get("content-range"), `bytes ${start}-${end}/${ARCHIVE_SIZE}`);
      assert.equal(response.headers.get("content-length"), String(end - start + 1));
      assert.ok(body.equals(archive.subarray(start, end + 1)), `${header}: ${range}`);
    }
  }
});

test("x-ms-range wins over Range when both are sent", async () => {
  const { response, body } = await get(url, { range: "bytes=0-9", "x-ms-range": "bytes=20-29" });
  assert.equal(response.status, 206);
  assert.ok(body.equals(archive.subarray(20, 30)));
});

test("a range outside the archive is 416 with the archive's size", async () => {
  for (const range of [
    `bytes=${ARCHIVE_SIZE}-`,
    `bytes=${ARCHIVE_SIZE + 5}-${ARCHIVE_SIZE + 9}`,
    "bytes=-0",
  ]) {
    const { response } = await get(url, { range });
    assert.equal(response.status, 416, range);
    assert.equal(response.headers.get("content-range"), `bytes */${ARCHIVE_SIZE}`);
  }
});

test("a malformed range is 400 with a message, not the whole archive", async () => {
  for (const range of ["bytes=abc", "bytes=0-1,5-6", "items=0-1", "bytes=9-1", "bytes=-"]) {
    const { response, body } = await get(url, { range });
    assert.equal(response.status, 400, range);
    assert.match(JSON.parse(body.toString()).message, /range/i);
  }
});

test("If-Range with a stale validator gets the whole archive instead of the slice", async () => {
  const fresh = await get(url, {
    range: "bytes=0-9",
    "if-range": (await get(url, {}, "HEAD")).response.headers.get("etag") ?? "",
  });
  assert.equal(fresh.response.status, 206);
  const stale = await get(url, { range: "bytes=0-9", "if-range": '"0-0"' });
  assert.equal(stale.response.status, 200);
  assert.equal(stale.body.length, ARCHIVE_SIZE);
});

test("an empty archive downloads as 200 with no bytes, and any range of it is 416", async () => {
  const empty = await saveEntry("empty", Buffer.alloc(0), []);
  const whole = await get(empty.url);
  assert.equal(whole.response.status, 200);
  assert.equal(whole.response.headers.get("content-length"), "0");
  assert.equal(whole.body.length, 0);
  const ranged = await get(empty.url, { range: "bytes=0-" });
  assert.equal(ranged.response.status, 416);
  assert.equal(ranged.response.headers.get("content-range"), "bytes */0");
});

/** Expects 403 with a message and not one byte of the archive. */
async function forbidden(target: URL, message: RegExp): Promise<void> {
  for (const method of ["GET", "HEAD"]) {
    const { response, body } = await get(target, {}, method);
    assert.equal(response.status, 403, `${method} ${target.pathname}`);
    assert.equal(response.headers.get("content-type")?.startsWith("application/json"), true);
    assert.equal(response.headers.get("x-ms-error-code"), "AuthenticationFailed");
    if (method === "GET") assert.match(JSON.parse(body.toString()).message, message);
  }
}

test("an expired URL is 403", async () => {
  const longAgo = Date.now() - 2 * server.config.signedUrlTtlSeconds * 1000;
  await forbidden(
    new URL(server.server.services.signer.sign("download", entryId, longAgo)),
    /expired/,
  );
});

test("a URL signed for one entry does not open another", async () => {
  const other = await saveEntry("other", randomBytes(16), [16]);
  await forbidden(withPath(url, other.entryId), /signature does not match/);
});

test("a signature with one character changed is 403", async () => {
  const sig = url.searchParams.get("sig") ?? "";
  const tampered = new URL(url);
  tampered.searchParams.set(
    "sig",
    `${sig.slice(0, 5)}${sig[5] === "A" ? "B" : "A"}${sig.slice(6)}`,
  );
  await forbidden(tampered, /signature does not match/);
  const later = new URL(url);
  later.searchParams.set("se", String(Number(url.searchParams.get("se")) + 1));
  await forbidden(later, /signature does not match/);
});

test("a URL without its signature, or signed for upload, is 403", async () => {
  const bare = new URL(url);
  bare.search = "";
  await forbidden(bare, /missing its se or sig/);
  const upload = new URL(server.server.services.signer.sign("upload", entryId));
  await forbidden(withPath(upload, entryId), /signature does not match/);
});

test("a validly signed URL for an unknown or uncommitted entry is 404", async () => {
  const signer = server.server.services.signer;
  const unknown = await get(signer.sign("download", 987_654));
  assert.equal(unknown.response.status, 404);
  assert.equal(unknown.response.headers.get("x-ms-error-code"), "BlobNotFound");
  const reserve = await v1Call(server.url, token, "POST", "caches", {
    key: "pending",
    version: VERSION,
    cacheSize: 1,
  });
  const pending = await get(signer.sign("download", (reserve.body as { cacheId: number }).cacheId));
  assert.equal(pending.response.status, 404);
  assert.match(JSON.parse(pending.body.toString()).message, /does not exist/);
});

test("an entry whose stored bytes are gone answers 500 without a byte, and says so in the log", async () => {
  const lost = await saveEntry("lost", randomBytes(64), [32, 32]);
  await server.server.services.blobs.deletePrefix(entryPrefix(lost.entryId));
  const { response, body } = await get(lost.url, { range: "bytes=0-9" });
  assert.equal(response.status, 500);
  assert.equal(response.headers.get("content-range"), null);
  assert.deepEqual(JSON.parse(body.toString()), { message: "internal error" });
  assert.ok(server.logs.some((line) => line.event === "download_failed"));
});

async function openFileCount(): Promise<number> {
  return (await readdir("/proc/self/fd")).length;
}

/** Starts a download, reads its first bytes, then drops the connection. */
function abortAfterFirstBytes(target: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(target, (response) => {
      response.once("data", (chunk: Buffer) => {
        req.destroy();
        resolve(chunk.length);
      });
    });
    req.on("error", (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

test("a client that aborts mid-download leaves no file open and the server keeps serving", async () => {
  const large = randomBytes(LARGE_PART_BYTES * LARGE_PART_COUNT);
  const partSizes = Array.from({ length: LARGE_PART_COUNT }, () => LARGE_PART_BYTES);
  const saved = await saveEntry("large", large, partSizes);
  const baseline = await openFileCount();

  for (let attempt = 0; attempt < 3; attempt += 1) {
    assert.ok((await abortAfterFirstBytes(saved.url)) > 0);
  }
  const deadline = Date.now() + FD_SETTLE_TIMEOUT_MS;
  while ((await openFileCount()) > baseline && Date.now() < deadline)
    await delay(FD_POLL_INTERVAL_MS);
  assert.ok(
    (await openFileCount()) <= baseline,
    "a part file or socket stayed open after the client went away",
  );

  const { response, body } = await get(saved.url, {
    range: `bytes=${LARGE_PART_BYTES - 4}-${LARGE_PART_BYTES + 3}`,
  });
  assert.equal(response.status, 206);
  assert.ok(body.equals(large.subarray(LARGE_PART_BYTES - 4, LARGE_PART_BYTES + 4)));
});

test("no log line carries a URL signature or the runner token", () => {
  for (const line of server.rawLogs) {
    assert.ok(!line.includes("sig="), `signature in log line: ${line.slice(0, 200)}`);
    assert.ok(
      !line.includes(url.searchParams.get("sig") ?? "(none)"),
      `signature in log line: ${line.slice(0, 200)}`,
    );
    assert.ok(!line.includes(token), `token in log line: ${line.slice(0, 200)}`);
  }
});
