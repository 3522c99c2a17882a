/**
 * The v2 Twirp API called as raw HTTP, for what the official client never sends: duplicates,
 * wrong sizes, refused writes, binary protobuf (OpenDAL/sccache), other JSON spellings, and bad
 * input. Uploads go through the real signed URL with a plain Put Blob.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BinaryReader, BinaryWriter, WireType } from "@protobuf-ts/runtime";
import { MAX_KEY_LENGTH, MAX_KEYS_PER_LOOKUP } from "../../src/cache/keys.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  assertNoSecretsLogged,
  completeJob,
  runnerOnBranch,
  twirp,
  type RunnerOnJob,
} from "./v2-client.js";

/** pino's numeric level for `error`. */
const PINO_ERROR_LEVEL = 50;
const REPOSITORY = "octo/api";
const VERSION = "c242501c19ad1e8f9fbc3da8e5d1ee2f0ac1fbd1ac09fbbb0bb4f7bca0591de2";
/** More than the Twirp body limit, so the request never reaches a method. */
const OVERSIZED_PADDING_CHARS = 100_000;

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

const call = (
  method: string,
  body: Record<string, unknown> | Uint8Array | string,
  token = main.token,
) => twirp(server.url, token, method, body);

async function create(key: string): Promise<string> {
  const answer = await call("CreateCacheEntry", { key, version: VERSION });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json.ok, true);
  const url = String(answer.json.signed_upload_url);
  signedUrls.push(url);
  return url;
}

async function putBlob(url: string, bytes: string): Promise<void> {
  const response = await fetch(url, {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob" },
    body: bytes,
  });
  assert.equal(response.status, 201, await response.text());
}

async function finalize(key: string, size: string, token = main.token) {
  const answer = await call(
    "FinalizeCacheEntryUpload",
    { key, version: VERSION, size_bytes: size },
    token,
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json;
}

/** Reserves, uploads and commits `key` holding `bytes`. */
async function save(key: string, bytes: string): Promise<void> {
  await putBlob(await create(key), bytes);
  assert.equal((await finalize(key, String(bytes.length))).ok, true);
}

async function lookup(key: string, restoreKeys: string[] = [], token = main.token) {
  const answer = await call(
    "GetCacheEntryDownloadURL",
    { key, restore_keys: restoreKeys, version: VERSION },
    token,
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  if (typeof answer.json.signed_download_url === "string")
    signedUrls.push(answer.json.signed_download_url);
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
  const answer = await call("GetCacheEntryDownloadURL", { key: "nothing-here", version: VERSION });
  assert.equal(answer.status, 200);
  assert.match(answer.contentType ?? "", /^application\/json/);
  assert.deepEqual(answer.json, { ok: false });
});

test("a second CreateCacheEntry for a key and version is 409 already_exists, uploading or committed", async () => {
  const url = await create("dup-1");
  const whileUploading = await call("CreateCacheEntry", { key: "dup-1", version: VERSION });
  assert.equal(whileUploading.status, 409);
  assert.equal(whileUploading.json.code, "already_exists");
  assert.match(String(whileUploading.json.msg), /already exists/);

  await putBlob(url, "archive");
  assert.equal((await finalize("dup-1", "7")).ok, true);
  const afterCommit = await call("CreateCacheEntry", { key: "dup-1", version: VERSION });
  assert.equal(afterCommit.status, 409);
  assert.equal(afterCommit.json.code, "already_exists");
});

test("Finalize with the wrong size answers ok:false with a message, and lookups never return the entry", async () => {
  await putBlob(await create("sized-1"), "x".repeat(100));
  const wrong = await finalize("sized-1", "99");
  assert.equal(wrong.ok, false);
  assert.match(String(wrong.message), /received 100 bytes but the commit says 99/);
  assert.deepEqual(await lookup("sized-1"), { ok: false });
  assert.deepEqual(await lookup("sized"), { ok: false });

  const unknown = await finalize("never-created", "5");
  assert.equal(unknown.ok, false);
  assert.match(String(unknown.message), /no upload was started/);
});

test("a committed entry is found by key and by prefix, and its id comes back as a string", async () => {
  await putBlob(await create("found-linux-abc"), "0123456789");
  const finalized = await finalize("found-linux-abc", "10");
  assert.equal(finalized.ok, true);
  assert.match(String(finalized.entry_id), /^[1-9]\d*$/);

  const exact = await lookup("found-linux-abc");
  assert.equal(exact.ok, true);
  assert.equal(exact.matched_key, "found-linux-abc");
  const byRestoreKey = await lookup("found-linux-xyz", ["found-linux-"]);
  assert.equal(byRestoreKey.matched_key, "found-linux-abc");
  assert.equal(await (await fetch(String(byRestoreKey.signed_download_url))).text(), "0123456789");
});

test("lowerCamelCase names, int64 as a number and unknown fields are accepted; answers use snake_case", async () => {
  const metadata = { repositoryId: "1", scope: [{ scope: "refs/heads/main", permission: "3" }] };
  const created = await call("CreateCacheEntry", {
    key: "camel-1",
    version: VERSION,
    metadata,
    somethingNew: true,
  });
  assert.equal(created.json.ok, true);
  const uploadUrl = String(created.json.signed_upload_url);
  signedUrls.push(uploadUrl);
  await putBlob(uploadUrl, "abc");
  const finalized = await call("FinalizeCacheEntryUpload", {
    key: "camel-1",
    version: VERSION,
    sizeBytes: 3,
  });
  assert.equal(finalized.json.ok, true);
  assert.equal(typeof finalized.json.entry_id, "string");

  const hit = await call("GetCacheEntryDownloadURL", {
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

async function protobufCall(method: string, message: Uint8Array): Promise<Map<number, string>> {
  const answer = await call(method, message);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.contentType, "application/protobuf");
  return decode(answer.bytes);
}

test("CreateCacheEntry, FinalizeCacheEntryUpload and GetCacheEntryDownloadURL round-trip as protobuf", async () => {
  // Field 1 (metadata) arrives the way OpenDAL sends it, and must be skipped.
  const metadata = new BinaryWriter().tag(1, WireType.Varint).int64(42n).finish();
  const withMetadata = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(metadata).finish();
  const createRequest = Buffer.concat([
    withMetadata,
    encode([
      [2, "proto-1"],
      [3, VERSION],
    ]),
  ]);
  const created = await protobufCall("CreateCacheEntry", createRequest);
  assert.equal(created.get(1), "1", "ok");
  const uploadUrl = created.get(2) ?? "";
  signedUrls.push(uploadUrl);
  await putBlob(uploadUrl, "protobuf bytes");

  const finalized = await protobufCall(
    "FinalizeCacheEntryUpload",
    encode([
      [2, "proto-1"],
      [3, 14n],
      [4, VERSION],
    ]),
  );
  assert.equal(finalized.get(1), "1");
  assert.match(finalized.get(2) ?? "", /^[1-9]\d*$/);

  const found = await protobufCall(
    "GetCacheEntryDownloadURL",
    encode([
      [2, "proto-2"],
      [3, "proto-"],
      [4, VERSION],
    ]),
  );
  assert.equal(found.get(1), "1");
  assert.equal(found.get(3), "proto-1");
  signedUrls.push(found.get(2) ?? "");
  assert.equal(await (await fetch(found.get(2) ?? "")).text(), "protobuf bytes");

  const missed = await protobufCall(
    "GetCacheEntryDownloadURL",
    encode([
      [2, "no-such-proto"],
      [4, VERSION],
    ]),
  );
  assert.equal(missed.size, 0, "a miss is the empty message");

  const truncated = await call("CreateCacheEntry", encode([[2, "proto-3"]]).slice(0, -2));
  assert.equal(truncated.status, 400);
  assert.equal(truncated.json.code, "malformed");
});

test("a runner without a job, or whose job completed, is denied writes with 200 ok:false and misses", async () => {
  await save("before-denial", "x");
  const { token: idle } = await server.registerRunner("runner-idle", REPOSITORY);
  const finished = await runnerOnBranch(server, "runner-finished", REPOSITORY, "main");
  await completeJob(server, finished);
  const countBefore = await entryCount();

  for (const token of [idle, finished.token]) {
    const created = await call("CreateCacheEntry", { key: "denied-1", version: VERSION }, token);
    assert.equal(created.status, 200);
    assert.equal(created.json.ok, false);
    assert.match(String(created.json.message), /^cache write denied: \S/);
    const finalized = await finalize("denied-1", "1", token);
    assert.equal(finalized.ok, false);
    assert.match(String(finalized.message), /^cache write denied: /);
    assert.deepEqual(await lookup("before-denial", [], token), { ok: false });
  }
  assert.equal(await entryCount(), countBefore);
});

interface BadCall {
  what: string;
  method: string;
  body: Record<string, unknown> | string;
  status: number;
  code: string;
  msg: RegExp;
}

const BAD_CALLS: BadCall[] = [
  {
    what: "malformed JSON",
    method: "CreateCacheEntry",
    body: '{"key": ',
    status: 400,
    code: "malformed",
    msg: /not valid JSON/,
  },
  {
    what: "an empty body",
    method: "CreateCacheEntry",
    body: "",
    status: 400,
    code: "malformed",
    msg: /not valid JSON/,
  },
  {
    what: "a JSON array",
    method: "CreateCacheEntry",
    body: "[]",
    status: 400,
    code: "malformed",
    msg: /JSON object/,
  },
  {
    what: "a key too long",
    method: "CreateCacheEntry",
    body: { key: "k".repeat(MAX_KEY_LENGTH + 1), version: VERSION },
    status: 400,
    code: "invalid_argument",
    msg: /limit is 512/,
  },
  {
    what: "a comma in a key",
    method: "CreateCacheEntry",
    body: { key: "a,b", version: VERSION },
    status: 400,
    code: "invalid_argument",
    msg: /comma/,
  },
  {
    what: "11 keys",
    method: "GetCacheEntryDownloadURL",
    body: {
      key: "k",
      restore_keys: Array.from({ length: MAX_KEYS_PER_LOOKUP }, (_, i) => `r${i}`),
      version: VERSION,
    },
    status: 400,
    code: "invalid_argument",
    msg: /at most 10 keys/,
  },
  {
    what: "a missing version",
    method: "CreateCacheEntry",
    body: { key: "k" },
    status: 400,
    code: "invalid_argument",
    msg: /version is required/,
  },
  {
    what: "a missing key",
    method: "GetCacheEntryDownloadURL",
    body: { version: VERSION },
    status: 400,
    code: "invalid_argument",
    msg: /key is required/,
  },
  {
    what: "a key that is a number",
    method: "CreateCacheEntry",
    body: { key: 7, version: VERSION },
    status: 400,
    code: "malformed",
    msg: /key must be a string/,
  },
  {
    what: "size_bytes not a number",
    method: "FinalizeCacheEntryUpload",
    body: { key: "k", version: VERSION, size_bytes: "lots" },
    status: 400,
    code: "malformed",
    msg: /size_bytes must be a whole number/,
  },
  {
    what: "a negative size_bytes",
    method: "FinalizeCacheEntryUpload",
    body: { key: "k", version: VERSION, size_bytes: "-1" },
    status: 400,
    code: "invalid_argument",
    msg: /size_bytes must be a whole number of bytes/,
  },
  {
    what: "an unknown method",
    method: "DeleteEverything",
    body: {},
    status: 404,
    code: "bad_route",
    msg: /no method DeleteEverything/,
  },
  {
    what: "a body over the limit",
    method: "CreateCacheEntry",
    body: { key: "k", version: VERSION, padding: "x".repeat(OVERSIZED_PADDING_CHARS) },
    status: 400,
    code: "malformed",
    msg: /too large/i,
  },
];

test("bad input is a clear 4xx Twirp error and changes nothing", async () => {
  const countBefore = await entryCount();
  for (const bad of BAD_CALLS) {
    const answer = await call(bad.method, bad.body);
    assert.equal(answer.status, bad.status, `${bad.what}: ${JSON.stringify(answer.json)}`);
    assert.equal(answer.json.code, bad.code, bad.what);
    assert.match(String(answer.json.msg), bad.msg, bad.what);
  }
  assert.equal(await entryCount(), countBefore);
});

test("calls without a token, with another content type or another HTTP method are Twirp errors", async () => {
  const anonymous = await twirp(server.url, undefined, "CreateCacheEntry", {
    key: "k",
    version: VERSION,
  });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.code, "unauthenticated");

  const url = `${server.url}/twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry`;
  const authorization = `Bearer ${main.token}`;
  const headers = { "content-type": "text/plain", authorization };
  const text = await fetch(url, { method: "POST", headers, body: "k" });
  assert.equal(text.status, 404);
  assert.equal(((await text.json()) as { code: string }).code, "bad_route");

  const get = await fetch(url, { headers: { authorization } });
  assert.equal(get.status, 404);
  assert.equal(((await get.json()) as { code: string }).code, "bad_route");
});

test("no log line holds a runner token or a signed URL's signature, and no caller mistake logged an error", () => {
  assert.ok(signedUrls.length > 0);
  assertNoSecretsLogged(server, [main.token], signedUrls);
  assert.deepEqual(
    server.logs.filter((line) => Number(line.level) >= PINO_ERROR_LEVEL),
    [],
  );
});
