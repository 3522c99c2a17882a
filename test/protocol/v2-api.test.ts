/**
 * The v2 Twirp API called as raw HTTP, for what the official client never sends: duplicates,
 * wrong sizes, refused writes, binary protobuf (OpenDAL/sccache), other JSON spellings, and bad
 * input. Uploads go through the real signed URL with a plain Put Blob.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BinaryReader, BinaryWriter, WireType } from "@protobuf-ts/runtime";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { assertNoSecretsLogged, completeJob, runnerOnBranch, twirp, type RunnerOnJob } from "./v2-client.js";

const REPOSITORY = "octo/api";
const VERSION = "c242501c19ad1e8f9fbc3da8e5d1ee2f0ac1fbd1ac09fbbb0bb4f7bca0591de2";
const MAX_KEY_LENGTH = 512;
const MAX_KEYS = 10;

let server: TestServer;
let main: RunnerOnJob;
const signedUrls: string[] = [];

before(async () => {
  server = await startTestServer();
  main = await runnerOnBranch(server, "runner-main", REPOSITORY, "main");
});

after(async () => {
  await server.close();
});

async function create(token: string, key: string): Promise<string> {
  const answer = await twirp(server.url, token, "CreateCacheEntry", { key, version: VERSION });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json.ok, true);
  const url = String(answer.json.signed_upload_url);
  signedUrls.push(url);
  return url;
}

async function putBlob(url: string, bytes: Buffer): Promise<void> {
  const response = await fetch(url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: Buffer.from(bytes) });
  assert.equal(response.status, 201, await response.text());
}

async function lookup(token: string, key: string, restoreKeys: string[] = []) {
  const answer = await twirp(server.url, token, "GetCacheEntryDownloadURL", { key, restore_keys: restoreKeys, version: VERSION });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  if (typeof answer.json.signed_download_url === "string") signedUrls.push(answer.json.signed_download_url);
  return answer.json;
}

async function entryCount(): Promise<number> {
  const row = await server.server.services.db
    .selectFrom("cache_entries")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

test("a lookup miss is 200 {ok:false} with a JSON body", async () => {
  const answer = await twirp(server.url, main.token, "GetCacheEntryDownloadURL", { key: "nothing-here", version: VERSION });
  assert.equal(answer.status, 200);
  assert.match(answer.contentType ?? "", /^application\/json/);
  assert.deepEqual(answer.json, { ok: false });
});

test("a second CreateCacheEntry for the same key and version is 409 already_exists, while uploading and after commit", async () => {
  const url = await create(main.token, "dup-1");
  const whileUploading = await twirp(server.url, main.token, "CreateCacheEntry", { key: "dup-1", version: VERSION });
  assert.equal(whileUploading.status, 409);
  assert.equal(whileUploading.json.code, "already_exists");
  assert.match(String(whileUploading.json.msg), /already exists/);

  await putBlob(url, Buffer.from("archive"));
  const finalized = await twirp(server.url, main.token, "FinalizeCacheEntryUpload", { key: "dup-1", version: VERSION, size_bytes: "7" });
  assert.equal(finalized.json.ok, true);
  const afterCommit = await twirp(server.url, main.token, "CreateCacheEntry", { key: "dup-1", version: VERSION });
  assert.equal(afterCommit.status, 409);
  assert.equal(afterCommit.json.code, "already_exists");
});

test("Finalize with the wrong size answers ok:false with a message, and lookups never return the entry", async () => {
  const url = await create(main.token, "sized-1");
  await putBlob(url, Buffer.alloc(100, 1));
  const wrong = await twirp(server.url, main.token, "FinalizeCacheEntryUpload", { key: "sized-1", version: VERSION, size_bytes: "99" });
  assert.equal(wrong.status, 200);
  assert.equal(wrong.json.ok, false);
  assert.match(String(wrong.json.message), /received 100 bytes but the commit says 99/);
  assert.deepEqual(await lookup(main.token, "sized-1"), { ok: false });
  assert.deepEqual(await lookup(main.token, "sized"), { ok: false });

  const unknown = await twirp(server.url, main.token, "FinalizeCacheEntryUpload", { key: "never-created", version: VERSION, size_bytes: "5" });
  assert.equal(unknown.json.ok, false);
  assert.match(String(unknown.json.message), /no upload was started/);
});

test("a committed entry is found by key and by prefix, and its id comes back as a string", async () => {
  const url = await create(main.token, "found-linux-abc");
  await putBlob(url, Buffer.from("0123456789"));
  const finalized = await twirp(server.url, main.token, "FinalizeCacheEntryUpload", {
    key: "found-linux-abc",
    version: VERSION,
    size_bytes: "10",
  });
  assert.equal(finalized.json.ok, true);
  assert.match(String(finalized.json.entry_id), /^[1-9]\d*$/);

  const exact = await lookup(main.token, "found-linux-abc");
  assert.equal(exact.ok, true);
  assert.equal(exact.matched_key, "found-linux-abc");
  const byRestoreKey = await lookup(main.token, "found-linux-xyz", ["found-linux-"]);
  assert.equal(byRestoreKey.matched_key, "found-linux-abc");
  const download = await fetch(String(byRestoreKey.signed_download_url));
  assert.equal(await download.text(), "0123456789");
});

test("lowerCamelCase names, int64 as a number and unknown fields are accepted; answers use snake_case", async () => {
  const created = await twirp(server.url, main.token, "CreateCacheEntry", {
    key: "camel-1",
    version: VERSION,
    metadata: { repositoryId: "1", scope: [{ scope: "refs/heads/main", permission: "3" }] },
    somethingNew: true,
  });
  assert.equal(created.json.ok, true);
  assert.equal(typeof created.json.signed_upload_url, "string");
  signedUrls.push(String(created.json.signed_upload_url));
  await putBlob(String(created.json.signed_upload_url), Buffer.from("abc"));
  const finalized = await twirp(server.url, main.token, "FinalizeCacheEntryUpload", { key: "camel-1", version: VERSION, sizeBytes: 3 });
  assert.equal(finalized.json.ok, true);
  assert.equal(typeof finalized.json.entry_id, "string");

  const hit = await twirp(server.url, main.token, "GetCacheEntryDownloadURL", {
    key: "camel-2",
    restoreKeys: ["camel-"],
    version: VERSION,
  });
  assert.equal(hit.json.matched_key, "camel-1");
  signedUrls.push(String(hit.json.signed_download_url));
});

/** A protobuf message of string and int64 fields, as OpenDAL encodes it. */
function encode(fields: [number, string | bigint][]): Uint8Array {
  const writer = new BinaryWriter();
  for (const [number, value] of fields) {
    if (typeof value === "bigint") writer.tag(number, WireType.Varint).int64(value);
    else writer.tag(number, WireType.LengthDelimited).string(value);
  }
  return writer.finish();
}

/** Field number -> value of a flat answer: varints as decimal strings, the rest as text. */
function decode(bytes: Uint8Array): Map<number, string> {
  const reader = new BinaryReader(bytes);
  const fields = new Map<number, string>();
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    fields.set(number, wireType === WireType.Varint ? reader.int64().toString() : reader.string());
  }
  return fields;
}

async function protobufCall(method: string, fields: [number, string | bigint][]): Promise<Map<number, string>> {
  const answer = await twirp(server.url, main.token, method, encode(fields));
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.contentType, "application/protobuf");
  return decode(answer.bytes);
}

test("CreateCacheEntry, FinalizeCacheEntryUpload and GetCacheEntryDownloadURL round-trip as application/protobuf", async () => {
  // Field 1 (metadata) is sent the way OpenDAL sends it and must be skipped.
  const metadata = new BinaryWriter().tag(1, WireType.Varint).int64(42n).finish();
  const withMetadata = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(metadata).finish();
  const createAnswer = await twirp(
    server.url,
    main.token,
    "CreateCacheEntry",
    Buffer.concat([withMetadata, encode([[2, "proto-1"], [3, VERSION]])]),
  );
  const created = decode(createAnswer.bytes);
  assert.equal(created.get(1), "1", "ok");
  const uploadUrl = created.get(2) ?? "";
  signedUrls.push(uploadUrl);
  await putBlob(uploadUrl, Buffer.from("protobuf bytes"));

  const finalized = await protobufCall("FinalizeCacheEntryUpload", [[2, "proto-1"], [3, 14n], [4, VERSION]]);
  assert.equal(finalized.get(1), "1");
  assert.match(finalized.get(2) ?? "", /^[1-9]\d*$/);

  const found = await protobufCall("GetCacheEntryDownloadURL", [[2, "proto-2"], [3, "proto-"], [4, VERSION]]);
  assert.equal(found.get(1), "1");
  assert.equal(found.get(3), "proto-1");
  signedUrls.push(found.get(2) ?? "");
  assert.equal(await (await fetch(found.get(2) ?? "")).text(), "protobuf bytes");

  const missed = await protobufCall("GetCacheEntryDownloadURL", [[2, "no-such-proto"], [4, VERSION]]);
  assert.equal(missed.size, 0, "a miss is the empty message");
});

test("a runner without a job, or whose job completed, gets 200 ok:false 'cache write denied' and lookup misses", async () => {
  const url = await create(main.token, "before-denial");
  await putBlob(url, Buffer.from("x"));
  await twirp(server.url, main.token, "FinalizeCacheEntryUpload", { key: "before-denial", version: VERSION, size_bytes: "1" });
  const { token: idle } = await server.registerRunner("runner-idle", REPOSITORY);
  const finished = await runnerOnBranch(server, "runner-finished", REPOSITORY, "main");
  await completeJob(server, finished);
  const countBefore = await entryCount();

  for (const token of [idle, finished.token]) {
    const created = await twirp(server.url, token, "CreateCacheEntry", { key: "denied-1", version: VERSION });
    assert.equal(created.status, 200);
    assert.equal(created.json.ok, false);
    assert.match(String(created.json.message), /^cache write denied: \S/);
    const finalized = await twirp(server.url, token, "FinalizeCacheEntryUpload", { key: "denied-1", version: VERSION, size_bytes: "1" });
    assert.equal(finalized.json.ok, false);
    assert.match(String(finalized.json.message), /^cache write denied: /);
    assert.deepEqual(await lookup(token, "before-denial"), { ok: false });
  }
  assert.equal(await entryCount(), countBefore);
});

test("bad input is a clear 4xx Twirp error and changes nothing", async () => {
  const countBefore = await entryCount();
  const cases: { name: string; method: string; body: Record<string, unknown> | string; status: number; code: string; msg: RegExp }[] = [
    { name: "malformed JSON", method: "CreateCacheEntry", body: "{\"key\": ", status: 400, code: "malformed", msg: /not valid JSON/ },
    { name: "a JSON array", method: "CreateCacheEntry", body: "[]", status: 400, code: "malformed", msg: /JSON object/ },
    {
      name: "a key too long",
      method: "CreateCacheEntry",
      body: { key: "k".repeat(MAX_KEY_LENGTH + 1), version: VERSION },
      status: 400,
      code: "invalid_argument",
      msg: /limit is 512/,
    },
    { name: "a comma", method: "CreateCacheEntry", body: { key: "a,b", version: VERSION }, status: 400, code: "invalid_argument", msg: /comma/ },
    {
      name: "11 keys",
      method: "GetCacheEntryDownloadURL",
      body: { key: "k", restore_keys: Array.from({ length: MAX_KEYS }, (_, i) => `r${i}`), version: VERSION },
      status: 400,
      code: "invalid_argument",
      msg: /at most 10 keys/,
    },
    { name: "a missing version", method: "CreateCacheEntry", body: { key: "k" }, status: 400, code: "invalid_argument", msg: /version is required/ },
    { name: "a missing key", method: "GetCacheEntryDownloadURL", body: { version: VERSION }, status: 400, code: "invalid_argument", msg: /key is required/ },
    { name: "a key that is a number", method: "CreateCacheEntry", body: { key: 7, version: VERSION }, status: 400, code: "malformed", msg: /key must be a string/ },
    {
      name: "size_bytes not a number",
      method: "FinalizeCacheEntryUpload",
      body: { key: "k", version: VERSION, size_bytes: "lots" },
      status: 400,
      code: "malformed",
      msg: /size_bytes must be a whole number/,
    },
    {
      name: "a negative size_bytes",
      method: "FinalizeCacheEntryUpload",
      body: { key: "k", version: VERSION, size_bytes: "-1" },
      status: 400,
      code: "invalid_argument",
      msg: /size_bytes must be a whole number of bytes/,
    },
    { name: "an unknown method", method: "DeleteEverything", body: {}, status: 404, code: "bad_route", msg: /no method DeleteEverything/ },
  ];
  for (const bad of cases) {
    const answer = await twirp(server.url, main.token, bad.method, bad.body);
    assert.equal(answer.status, bad.status, `${bad.name}: ${JSON.stringify(answer.json)}`);
    assert.equal(answer.json.code, bad.code, bad.name);
    assert.match(String(answer.json.msg), bad.msg, bad.name);
  }
  assert.equal(await entryCount(), countBefore);
});

test("calls without a token, with another content type or another HTTP method are refused as Twirp errors", async () => {
  const anonymous = await twirp(server.url, undefined, "CreateCacheEntry", { key: "k", version: VERSION });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.code, "unauthenticated");

  const base = `${server.url}/twirp/github.actions.results.api.v1.CacheService`;
  const text = await fetch(`${base}/CreateCacheEntry`, {
    method: "POST",
    headers: { "content-type": "text/plain", authorization: `Bearer ${main.token}` },
    body: "key=k",
  });
  assert.equal(text.status, 404);
  assert.equal(((await text.json()) as { code: string }).code, "bad_route");

  const get = await fetch(`${base}/CreateCacheEntry`, { headers: { authorization: `Bearer ${main.token}` } });
  assert.equal(get.status, 404);
  assert.equal(((await get.json()) as { code: string }).code, "bad_route");

  const oversized = await twirp(server.url, main.token, "CreateCacheEntry", { key: "k", version: VERSION, padding: "x".repeat(100_000) });
  assert.equal(oversized.status, 400);
  assert.equal(oversized.json.code, "malformed");
});

test("no log line holds a runner token or a signed URL's signature", () => {
  assert.ok(signedUrls.length > 0);
  assertNoSecretsLogged(server, [main.token], signedUrls);
});
