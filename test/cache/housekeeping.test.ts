/**
 * Abandoned uploads: an upload not committed within the configured time after its last byte is
 * removed with its bytes, so its key can be saved again; live uploads and committed entries stay.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { expireAbandonedUploads } from "../../src/cache/housekeeping.js";
import type { CacheEntry } from "../../src/cache/entry.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const UPLOAD_TIMEOUT_SECONDS = 3600;
const HOUR_MS = UPLOAD_TIMEOUT_SECONDS * 1000;
const SAVER = { runnerId: "runner-1", jobId: null };

let server: TestServer;

before(async () => {
  server = await startTestServer({
    GHA_CACHE_UPLOAD_TIMEOUT_SECONDS: String(UPLOAD_TIMEOUT_SECONDS),
  });
});

after(async () => {
  await server.close();
});

async function startUpload(key: string, bytes: string): Promise<CacheEntry> {
  const { uploads } = server.server.services;
  const entry = await uploads.reserve({
    repository: "octo/app",
    scope: "refs/heads/main",
    key,
    version: "v1",
    declaredSize: bytes.length,
    saver: SAVER,
  });
  await uploads.writeChunk(entry, 0, bytes.length - 1, Readable.from([Buffer.from(bytes)]));
  return entry;
}

function entryFolder(entry: CacheEntry): string {
  return path.join(server.config.dataDir, "blobs", "entries", String(entry.id));
}

async function rowOf(entry: CacheEntry) {
  return server.server.services.db
    .selectFrom("cache_entries")
    .select("state")
    .where("id", "=", entry.id)
    .executeTakeFirst();
}

function expire(now: number): Promise<number> {
  const { db, blobs, log } = server.server.services;
  return expireAbandonedUploads(db, blobs, log, UPLOAD_TIMEOUT_SECONDS, now);
}

test("an upload idle longer than the upload timeout is removed with its bytes, and its key can be saved again", async () => {
  const abandoned = await startUpload("abandoned", "half");
  assert.ok(existsSync(entryFolder(abandoned)));

  const removed = await expire(Date.now() + HOUR_MS + 1000);

  assert.equal(removed, 1);
  assert.equal(await rowOf(abandoned), undefined);
  assert.equal(existsSync(entryFolder(abandoned)), false);
  const again = await startUpload("abandoned", "full");
  assert.notEqual(again.id, abandoned.id);
  assert.ok(
    server.logs.some((line) => line.event === "upload_abandoned" && line.entryId === abandoned.id),
  );
});

test("an upload whose last byte is recent is kept", async () => {
  const live = await startUpload("live", "bytes");

  const removed = await expire(Date.now() + HOUR_MS - 60_000);

  assert.equal(removed, 0);
  assert.equal((await rowOf(live))?.state, "uploading");
  assert.ok(existsSync(entryFolder(live)));
});

test("a committed entry is never removed as abandoned, however old", async () => {
  const { uploads } = server.server.services;
  const entry = await startUpload("committed", "done");
  await uploads.commit(await uploads.uploading(entry.id), "done".length);

  await expire(Date.now() + 100 * HOUR_MS);

  assert.equal((await rowOf(entry))?.state, "committed");
  assert.ok(existsSync(entryFolder(entry)));
});
