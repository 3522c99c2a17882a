/**
 * The upload data plane as raw HTTP, for the Azure Blob details the SDKs rely on but a happy-path
 * save never shows: replaced blocks, list order, refused signatures, committed entries, limits,
 * malformed block lists, and the exact answer shape (201, ETag, x-ms-request-id, XML errors).
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";
import { MiB } from "../../src/config.js";
import { MAX_BLOCK_LIST_BYTES } from "../../src/dataplane/azure-block-list.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  assertNoSecretsLogged,
  runnerOnBranch,
  twirp,
  type RunnerOnJob,
} from "../protocol/v2-client.js";

/** pino's numeric level for `error`. */
const PINO_ERROR_LEVEL = 50;
const REPOSITORY = "octo/blobs";
const VERSION = "9e0ba804a7ed6f9b5c1d8e0e4e1b2f7c3c8d0a4b6e2f1a3c5d7e9f0b1c2d3079309";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_PUT_BYTES = 128 * MiB;
/** A storage API version the Azure SDK sends, to be echoed back. */
const SDK_API_VERSION = "2026-02-06";
const POLL_MS = 10;
/** How long the server may take to react to what a test client did. */
const WAIT_MS = 5000;

let server: TestServer;
let runner: RunnerOnJob;
const signedUrls: string[] = [];
let keyCounter = 0;

before(async () => {
  server = await startTestServer();
  runner = await runnerOnBranch(server, "runner-blobs", REPOSITORY, "main");
});

after(async () => {
  await server.close();
});

interface Reserved {
  key: string;
  url: string;
  entryId: number;
}

async function reserve(): Promise<Reserved> {
  const key = `blob-test-${keyCounter++}`;
  const answer = await twirp(server.url, runner.token, "CreateCacheEntry", {
    key,
    version: VERSION,
  });
  assert.equal(answer.json.ok, true, JSON.stringify(answer.json));
  const url = String(answer.json.signed_upload_url);
  signedUrls.push(url);
  return { key, url, entryId: Number(new URL(url).pathname.split("/").pop()) };
}

/** `url` with extra Azure query parameters, as the SDK adds them to the signed URL. */
function withQuery(url: string, extra: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(extra)) target.searchParams.set(name, value);
  return target.toString();
}

function put(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "PUT",
    headers,
    body: typeof body === "string" ? body : Buffer.from(body),
  });
}

const putBlob = (url: string, body: string) => put(url, body, { "x-ms-blob-type": "BlockBlob" });
const putBlock = (url: string, id: string, body: string) =>
  put(withQuery(url, { comp: "block", blockid: id }), body);
const putBlockList = (url: string, xml: string) =>
  put(withQuery(url, { comp: "blocklist" }), xml, {
    "content-type": "application/xml; charset=utf-8",
  });

function blockListXml(elements: [string, string][]): string {
  const body = elements.map(([element, id]) => `  <${element}>${id}</${element}>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<BlockList>\n${body}\n</BlockList>`;
}

async function finalize(reserved: Reserved, size: number) {
  const answer = await twirp(server.url, runner.token, "FinalizeCacheEntryUpload", {
    key: reserved.key,
    version: VERSION,
    size_bytes: String(size),
  });
  return answer.json;
}

async function download(reserved: Reserved): Promise<string> {
  const lookup = { key: reserved.key, version: VERSION };
  const found = await twirp(server.url, runner.token, "GetCacheEntryDownloadURL", lookup);
  assert.equal(found.json.ok, true, JSON.stringify(found.json));
  signedUrls.push(String(found.json.signed_download_url));
  return (await fetch(String(found.json.signed_download_url))).text();
}

/** Parts and staged blocks the entry holds: none after a refused write. */
async function storedPieces(entryId: number): Promise<number> {
  const { db } = server.server.services;
  const parts = await db
    .selectFrom("entry_parts")
    .selectAll()
    .where("entry_id", "=", entryId)
    .execute();
  const blocks = await db
    .selectFrom("staged_blocks")
    .selectAll()
    .where("entry_id", "=", entryId)
    .execute();
  return parts.length + blocks.length;
}

async function assertAzureError(response: Response, status: number, code: string): Promise<void> {
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.equal(response.headers.get("x-ms-error-code"), code);
  assert.match(response.headers.get("x-ms-request-id") ?? "", UUID);
  assert.match(
    body,
    new RegExp(`^<\\?xml[^>]*\\?><Error><Code>${code}</Code><Message>[^<]+</Message></Error>$`),
  );
}

test("Put Blob answers 201 with an empty body and the headers the Azure SDKs read", async () => {
  const reserved = await reserve();
  const headers = { "x-ms-blob-type": "BlockBlob", "x-ms-version": SDK_API_VERSION };
  const response = await put(reserved.url, "whole archive", headers);
  assert.equal(response.status, 201);
  assert.equal(await response.text(), "");
  assert.match(response.headers.get("etag") ?? "", /^"0x[0-9A-F]+"$/);
  assert.match(response.headers.get("x-ms-request-id") ?? "", UUID);
  assert.equal(response.headers.get("x-ms-version"), SDK_API_VERSION);
  assert.ok(!Number.isNaN(Date.parse(response.headers.get("date") ?? "")));
  assert.ok(!Number.isNaN(Date.parse(response.headers.get("last-modified") ?? "")));

  assert.equal((await finalize(reserved, "whole archive".length)).ok, true);
  assert.equal(await download(reserved), "whole archive");
});

test("a re-sent block replaces the earlier one", async () => {
  const reserved = await reserve();
  assert.equal((await putBlock(reserved.url, "AAAA", "old")).status, 201);
  const resent = await putBlock(reserved.url, "AAAA", "new!");
  assert.equal(resent.status, 201);
  assert.match(resent.headers.get("x-ms-request-id") ?? "", UUID);
  assert.equal((await putBlockList(reserved.url, blockListXml([["Latest", "AAAA"]]))).status, 201);
  assert.equal((await finalize(reserved, 4)).ok, true);
  assert.equal(await download(reserved), "new!");
});

test("the block list's order, not the upload order, defines the blob", async () => {
  const reserved = await reserve();
  // Base64 ids hold + / and =, which the SDK URL-encodes in the query and writes as-is in XML.
  const ids = ["b+1/AA==", "b+2/AA==", "b+3/AA=="] as const;
  assert.equal((await putBlock(reserved.url, ids[2], "three")).status, 201);
  assert.equal((await putBlock(reserved.url, ids[0], "one-")).status, 201);
  assert.equal((await putBlock(reserved.url, ids[1], "two-")).status, 201);
  const list = blockListXml([
    ["Latest", ids[0]],
    ["Uncommitted", ids[1]],
    ["Committed", ids[2]],
  ]);
  const committed = await putBlockList(reserved.url, list);
  assert.equal(committed.status, 201);
  assert.match(committed.headers.get("etag") ?? "", /^"0x/);
  assert.equal((await finalize(reserved, "one-two-three".length)).ok, true);
  assert.equal(await download(reserved), "one-two-three");
});

test("a block list naming a block never uploaded is 400 and commits nothing", async () => {
  const reserved = await reserve();
  assert.equal((await putBlock(reserved.url, "known", "bytes")).status, 201);
  const response = await putBlockList(
    reserved.url,
    blockListXml([
      ["Latest", "known"],
      ["Latest", "unknown"],
    ]),
  );
  await assertAzureError(response, 400, "InvalidBlockList");
  const finalized = await finalize(reserved, "bytes".length);
  assert.equal(finalized.ok, false);
});

test("a malformed block list is 400 InvalidXmlDocument", async () => {
  const reserved = await reserve();
  assert.equal((await putBlock(reserved.url, "known", "bytes")).status, 201);
  const malformed = [
    "not xml at all",
    "<BlockList><Latest>known</Latest>",
    "<BlockList><Latest>known</Latest></BlockList><BlockList/>",
    "<Blocks><Latest>known</Latest></Blocks>",
    "<BlockList><Newest>known</Newest></BlockList>",
    "<BlockList><Latest><Latest>known</Latest></Latest></BlockList>",
    '<!DOCTYPE x [<!ENTITY a "known">]><BlockList><Latest>&a;</Latest></BlockList>',
  ];
  for (const xml of malformed)
    await assertAzureError(await putBlockList(reserved.url, xml), 400, "InvalidXmlDocument");
  assert.equal(await storedPieces(reserved.entryId), 1, "only the staged block");
});

test("an upload URL for another entry, expired, or with one signature character changed is 403 and stores nothing", async () => {
  const target = await reserve();
  const other = await reserve();
  const { signer } = server.server.services;
  const ttlMs = server.config.signedUrlTtlSeconds * 1000;

  const forOther = new URL(other.url);
  forOther.pathname = forOther.pathname.replace(/\d+$/, String(target.entryId));
  const expired = signer.sign("upload", target.entryId, Date.now() - ttlMs - 1000);
  signedUrls.push(expired);
  const tampered = new URL(target.url);
  const sig = tampered.searchParams.get("sig") ?? "";
  tampered.searchParams.set("sig", `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`);
  const unsigned = new URL(target.url);
  unsigned.searchParams.delete("sig");

  for (const url of [forOther.toString(), expired, tampered.toString(), unsigned.toString()]) {
    await assertAzureError(await putBlob(url, "intruder"), 403, "AuthenticationFailed");
    await assertAzureError(await putBlock(url, "x", "intruder"), 403, "AuthenticationFailed");
  }
  assert.equal(await storedPieces(target.entryId), 0);
});

test("a write to a committed entry is 409 and leaves its bytes as they were", async () => {
  const reserved = await reserve();
  assert.equal((await putBlob(reserved.url, "final")).status, 201);
  assert.equal((await finalize(reserved, 5)).ok, true);
  await assertAzureError(await putBlob(reserved.url, "again"), 409, "BlobAlreadyExists");
  await assertAzureError(await putBlock(reserved.url, "x", "again"), 409, "BlobAlreadyExists");
  assert.equal(await download(reserved), "final");
});

test("an upload URL for an entry that does not exist is 404 BlobNotFound", async () => {
  const url = server.server.services.signer.sign("upload", 987654);
  signedUrls.push(url);
  await assertAzureError(await putBlob(url, "x"), 404, "BlobNotFound");
});

/** A PUT with a hand-made header set: chunked (no Content-Length), or a length never sent. */
function rawPut(
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: "PUT", headers }, (response) => {
      response.resume();
      resolve({
        status: response.statusCode ?? 0,
        code: String(response.headers["x-ms-error-code"]),
      });
      request.destroy();
    });
    request.on("error", (error) => {
      if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") reject(error);
    });
    if (body !== undefined) request.end(body);
    else request.flushHeaders();
  });
}

test("Put Blob and Put Block without Content-Length are 411, and oversized bodies are 413, storing nothing", async () => {
  const reserved = await reserve();
  const chunked = { "x-ms-blob-type": "BlockBlob", "transfer-encoding": "chunked" };
  assert.deepEqual(await rawPut(reserved.url, chunked, "no length"), {
    status: 411,
    code: "MissingContentLengthHeader",
  });
  const blockUrl = withQuery(reserved.url, { comp: "block", blockid: "b1" });
  assert.deepEqual(await rawPut(blockUrl, { "transfer-encoding": "chunked" }, "no length"), {
    status: 411,
    code: "MissingContentLengthHeader",
  });

  const oversized = { "x-ms-blob-type": "BlockBlob", "content-length": String(MAX_PUT_BYTES + 1) };
  assert.deepEqual(await rawPut(reserved.url, oversized, undefined), {
    status: 413,
    code: "RequestBodyTooLarge",
  });
  assert.deepEqual(
    await rawPut(blockUrl, { "content-length": String(MAX_PUT_BYTES + 1) }, undefined),
    {
      status: 413,
      code: "RequestBodyTooLarge",
    },
  );
  const listUrl = withQuery(reserved.url, { comp: "blocklist" });
  assert.deepEqual(
    await rawPut(listUrl, { "content-length": String(MAX_BLOCK_LIST_BYTES + 1) }, undefined),
    {
      status: 413,
      code: "RequestBodyTooLarge",
    },
  );
  assert.equal(await storedPieces(reserved.entryId), 0);
});

/** Polls until `condition` holds, failing after `timeoutMs`. */
async function eventually(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const temporaryFiles = () => readdir(path.join(server.config.dataDir, "tmp")).catch(() => []);

test("a client that hangs up mid-body leaves no part, block or temporary file behind", async () => {
  const reserved = await reserve();
  const request = httpRequest(reserved.url, {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob", "content-length": String(MiB) },
  });
  request.on("error", () => undefined);
  request.write(Buffer.alloc(MiB / 2));
  await eventually(
    "the server starting to store the body",
    async () => (await temporaryFiles()).length > 0,
    WAIT_MS,
  );
  request.destroy();
  const abortLogged = async () => server.logs.some((line) => line.event === "upload_aborted");
  await eventually("the abort being logged", abortLogged, WAIT_MS);

  assert.equal(await storedPieces(reserved.entryId), 0);
  assert.deepEqual(await temporaryFiles(), []);
});

test("unknown operations and missing Azure parameters are 400 with Azure's error codes", async () => {
  const reserved = await reserve();
  const badQuery = "InvalidQueryParameterValue";
  await assertAzureError(
    await put(withQuery(reserved.url, { comp: "appendblock" }), "x"),
    400,
    badQuery,
  );
  await assertAzureError(await put(withQuery(reserved.url, { comp: "block" }), "x"), 400, badQuery);
  await assertAzureError(await put(reserved.url, "x"), 400, "MissingRequiredHeader");
  await assertAzureError(
    await put(reserved.url, "x", { "x-ms-blob-type": "PageBlob" }),
    400,
    "InvalidHeaderValue",
  );
  await assertAzureError(
    await putBlob(reserved.url.replace(/\/\d+\?/, "/not-an-id?"), "x"),
    400,
    badQuery,
  );
  assert.equal(await storedPieces(reserved.entryId), 0);
});

test("no log line holds a runner token or a signed URL's signature, and no caller mistake logged an error", () => {
  assertNoSecretsLogged(server, [runner.token], signedUrls);
  assert.deepEqual(
    server.logs.filter((line) => Number(line.level) >= PINO_ERROR_LEVEL),
    [],
  );
});
