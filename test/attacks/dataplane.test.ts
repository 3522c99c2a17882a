/**
 * Attacks on the data plane and the upload protocol: signed URLs, ranges, block lists, bodies,
 * commits with gaps and overlaps, and races between reserve/commit/chunk.
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
  rawSocket,
  secretsOf,
  sleep,
  v1,
  v1Lookup,
  v1Save,
  VERSION,
} from "./kit.js";

let server: TestServer;
const tokens: string[] = [];
const urls: string[] = [];
const REPO = "octo/plane";
let token: string;
let committedId: number;
let downloadUrl: string;

async function newJob(name: string, branch = "main") {
  const reg = await server.registerRunner(name, REPO);
  tokens.push(reg.token);
  const jobId = nextId();
  assert.equal(
    await server.jobEvent({
      action: "in_progress",
      jobId,
      runId: jobId * 10,
      repository: REPO,
      headBranch: branch,
      runnerName: name,
    }),
    200,
  );
  return reg.token;
}

async function createV2(key: string): Promise<string> {
  const created = await twirp(server.url, token, "CreateCacheEntry", { key, version: VERSION });
  assert.equal(created.json.ok, true, JSON.stringify(created.json));
  const url = String(created.json.signed_upload_url);
  urls.push(url);
  return url;
}

const put = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  http(url, {
    method: "PUT",
    headers: { "content-length": String(Buffer.byteLength(body)), ...headers },
    body: body as unknown as BodyInit,
  });

before(async () => {
  server = await startTestServer({ GHA_CACHE_SIGNED_URL_TTL_SECONDS: "3600" });
  token = await newJob("plane-main");
  const saved = await v1Save(server.url, token, "committed", Buffer.from("0123456789"));
  assert.equal(saved.commit, 204);
  committedId = saved.id;
  const hit = await v1Lookup(server.url, token, ["committed"]);
  downloadUrl = hit.json.archiveLocation;
  urls.push(downloadUrl);
});

after(async () => {
  assertNoSecrets(server, secretsOf(tokens, urls));
  await server.close();
});

test("signed download URL for one entry does not open another entry (id swapped): 403", async () => {
  const other = await v1Save(server.url, token, "other-entry", Buffer.from("OTHER"));
  const swapped = downloadUrl.replace(`/download/${committedId}?`, `/download/${other.id}?`);
  assert.equal((await http(swapped)).status, 403);
  // A zero-padded id names the same entry: harmless, but it must not open anything else.
  const padded = await http(
    downloadUrl.replace(`/download/${committedId}?`, `/download/0${committedId}?`),
  );
  assert.ok(
    [400, 403].includes(padded.status) || padded.text === "0123456789",
    String(padded.status),
  );
});

test("download URL used as an upload URL (operation swap), and upload URL used to download: 403", async () => {
  const asUpload = downloadUrl.replace("/blobs/download/", "/blobs/upload/");
  assert.equal((await put(asUpload, "X", { "x-ms-blob-type": "BlockBlob" })).status, 403);
  const up = await createV2("op-swap");
  assert.equal((await http(up.replace("/blobs/upload/", "/blobs/download/"))).status, 403);
});

test("expired signed URL: 403; moving se forward without re-signing: 403", async () => {
  const expired = server.server.services.signer.sign(
    "download",
    committedId,
    Date.now() - 2 * 3600_000,
  );
  urls.push(expired);
  const r = await http(expired);
  assert.equal(r.status, 403);
  const u = new URL(downloadUrl);
  u.searchParams.set("se", String(Number(u.searchParams.get("se")) + 100000));
  assert.equal((await http(u.toString())).status, 403);
});

test("signature with one byte changed, truncated, doubled, or repeated sig params: 403", async () => {
  const u = new URL(downloadUrl);
  const sig = u.searchParams.get("sig")!;
  const flip = sig[0] === "A" ? "B" : "A";
  for (const bad of [
    flip + sig.slice(1),
    sig.slice(0, -1),
    sig + sig,
    "",
    sig.toUpperCase() === sig ? sig.toLowerCase() : sig.toUpperCase(),
  ]) {
    const v = new URL(downloadUrl);
    v.searchParams.set("sig", bad);
    assert.equal((await http(v.toString())).status, 403, bad);
  }
  const repeated = `${downloadUrl}&sig=${sig}`;
  assert.ok([400, 403].includes((await http(repeated)).status));
});

test("upload to a committed entry through its old upload URL: refused (409), bytes unchanged", async () => {
  const url = await createV2("v2-committed");
  assert.equal((await put(url, "GOOD", { "x-ms-blob-type": "BlockBlob" })).status, 201);
  const fin = await twirp(server.url, token, "FinalizeCacheEntryUpload", {
    key: "v2-committed",
    version: VERSION,
    size_bytes: "4",
  });
  assert.equal(fin.json.ok, true);
  const again = await put(url, "EVIL", { "x-ms-blob-type": "BlockBlob" });
  assert.equal(again.status, 409, again.text);
  const block = await put(`${url}&comp=block&blockid=QQ==`, "EVIL");
  assert.equal(block.status, 409);
  const hit = await twirp(server.url, token, "GetCacheEntryDownloadURL", {
    key: "v2-committed",
    restore_keys: [],
    version: VERSION,
  });
  urls.push(String(hit.json.signed_download_url));
  assert.equal((await http(String(hit.json.signed_download_url))).text, "GOOD");
});

test("download of an uncommitted entry (even with a valid signature): 404, and lookups do not return it", async () => {
  const r = await v1(server.url, token, "POST", "caches", {
    key: "uncommitted",
    version: VERSION,
    cacheSize: 3,
  });
  const id = r.json.cacheId as number;
  await v1(server.url, token, "PATCH", `caches/${id}`, Buffer.from("abc"), {
    "content-range": "bytes 0-2/*",
  });
  assert.equal((await v1Lookup(server.url, token, ["uncommitted"])).status, 204);
  const forged = server.server.services.signer.sign("download", id);
  urls.push(forged);
  assert.equal((await http(forged)).status, 404);
});

test("path traversal in entry ids, cache ids and block ids: 4xx, nothing escapes the data folder", async () => {
  const u = new URL(downloadUrl);
  for (const id of ["..%2F..%2Fetc%2Fpasswd", "..", "1%00", "-1", "1e3", "0x10", "%2e%2e"]) {
    const r = await http(`${server.url}/blobs/download/${id}${u.search}`);
    assert.ok(r.status >= 400 && r.status < 500, `${id} -> ${r.status}`);
  }
  for (const id of ["..%2F1", "-1", "1.5", "99999999999999999999"]) {
    const r = await v1(server.url, token, "POST", `caches/${id}`, { size: 1 });
    assert.ok(r.status >= 400 && r.status < 500, `${id} -> ${r.status}`);
  }
  const url = await createV2("traversal-block");
  for (const blockId of ["../../../../tmp/pwn", "..%2F..%2Fx", "/etc/passwd", "\u0000"]) {
    const r = await put(`${url}&comp=block&blockid=${encodeURIComponent(blockId)}`, "Z");
    assert.ok(r.status === 201 || (r.status >= 400 && r.status < 500), `${blockId} -> ${r.status}`);
  }
  const { readdir } = await import("node:fs/promises");
  const entries = await readdir(server.config.dataDir, { recursive: true });
  assert.ok(
    entries.every((name) => !String(name).includes("pwn")),
    entries.join(","),
  );
});

test("Range edge cases: bytes=-0 is 416, huge numbers are clipped or 400, negative or reversed is 400; never 500", async () => {
  const cases: [string, number[]][] = [
    ["bytes=-0", [416]],
    ["bytes=0-0", [206]],
    ["bytes=-1", [206]],
    ["bytes=9-", [206]],
    ["bytes=10-", [416]],
    ["bytes=0-9999999999999999", [206]],
    ["bytes=9999999999999999-", [416]],
    ["bytes=99999999999999999999-", [400]],
    ["bytes=--1", [400]],
    ["bytes=-5-3", [400]],
    ["bytes=5-2", [400]],
    ["bytes=0-1,2-3", [400]],
    ["bytes=-99999999999999999", [400]],
    ["bytes=-9999999999999999", [206]],
    ["items=0-1", [400]],
    ["bytes=1.5-2", [400]],
    ["bytes= 0 - 1", [206]],
  ];
  for (const [range, ok] of cases) {
    for (const header of ["range", "x-ms-range"]) {
      const r = await http(downloadUrl, { headers: { [header]: range } });
      assert.ok(
        ok.includes(r.status),
        `${header}: ${range} -> ${r.status} ${r.text.slice(0, 100)}`,
      );
      if (r.status === 206) assert.equal(Number(r.headers.get("content-length")), r.text.length);
    }
  }
  const r = await http(downloadUrl, { headers: { range: "bytes=-9999999999999999" } });
  assert.equal(r.text, "0123456789");
});

test("zero-byte entry: whole and ranged downloads are well-formed", async () => {
  const empty = await v1(server.url, token, "POST", "caches", {
    key: "empty",
    version: VERSION,
    cacheSize: 0,
  });
  assert.equal(empty.status, 201);
  const c = await v1(server.url, token, "POST", `caches/${empty.json.cacheId}`, { size: 0 });
  assert.equal(c.status, 204, c.text);
  const hit = await v1Lookup(server.url, token, ["empty"]);
  const url = hit.json.archiveLocation;
  urls.push(url);
  assert.equal((await http(url)).status, 200);
  assert.equal((await http(url, { headers: { range: "bytes=0-" } })).status, 416);
  assert.equal((await http(url, { headers: { range: "bytes=-1" } })).status, 416);
});

test("block list naming another entry's staged block: 400 (never uploaded)", async () => {
  const first = await createV2("blocks-a");
  assert.equal((await put(`${first}&comp=block&blockid=c2hhcmVk`, "SECRET-A")).status, 201);
  const second = await createV2("blocks-b");
  const list = `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>c2hhcmVk</Latest></BlockList>`;
  const r = await put(`${second}&comp=blocklist`, list);
  assert.equal(r.status, 400, r.text);
});

test("block list with a DOCTYPE / entity expansion or junk XML: 400", async () => {
  const url = await createV2("xml-bomb");
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><BlockList><Latest>&lol;</Latest></BlockList>`;
  assert.equal((await put(`${url}&comp=blocklist`, bomb)).status, 400);
  for (const junk of [
    "<BlockList>",
    "not xml",
    "<BlockList><Foo>x</Foo></BlockList>",
    "<A/><B/>",
    "",
  ]) {
    const r = await put(`${url}&comp=blocklist`, junk);
    assert.ok(r.status >= 400 && r.status < 500, `${junk} -> ${r.status}`);
  }
});

test("absurd Content-Length on PATCH, Put Blob and Put Block: 4xx before reading, never 500", async () => {
  const res = await v1(server.url, token, "POST", "caches", { key: "absurd", version: VERSION });
  const id = res.json.cacheId;
  const patch = await rawSocket(
    server.url,
    `PATCH /_apis/artifactcache/caches/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/*\r\nContent-Length: 99999999999999999999\r\n\r\n`,
    1500,
  );
  assert.match(patch, /^HTTP\/1\.1 4\d\d/, patch.slice(0, 100));
  const url = await createV2("absurd-v2");
  const path = new URL(url);
  for (const extra of ["", "&comp=block&blockid=QQ=="]) {
    const raw = await rawSocket(
      server.url,
      `PUT ${path.pathname}${path.search}${extra} HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: 9999999999999\r\n\r\n`,
      1500,
    );
    assert.match(raw, /^HTTP\/1\.1 4\d\d/, raw.slice(0, 100));
  }
  const lie = await rawSocket(
    server.url,
    `PATCH /_apis/artifactcache/caches/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/*\r\nContent-Length: 3\r\n\r\nabc`,
    1500,
  );
  assert.match(lie, /^HTTP\/1\.1 400/, lie.slice(0, 100));
});

test("PATCH chunk beyond the declared size, or with a too-long body: 400", async () => {
  const res = await v1(server.url, token, "POST", "caches", {
    key: "declared",
    version: VERSION,
    cacheSize: 4,
  });
  const id = res.json.cacheId;
  const beyond = await v1(server.url, token, "PATCH", `caches/${id}`, Buffer.from("abcd"), {
    "content-range": "bytes 4-7/*",
  });
  assert.equal(beyond.status, 400);
  const longer = await rawSocket(
    server.url,
    `PATCH /_apis/artifactcache/caches/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/*\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n`,
    1500,
  );
  assert.match(longer, /^HTTP\/1\.1 4\d\d/, longer.slice(0, 200));
  const undeclared = await v1(server.url, token, "POST", "caches", {
    key: "undeclared",
    version: VERSION,
  });
  const far = await v1(
    server.url,
    token,
    "PATCH",
    `caches/${undeclared.json.cacheId}`,
    Buffer.from("a"),
    { "content-range": `bytes ${20 * 1024 ** 3}-${20 * 1024 ** 3}/*` },
  );
  assert.equal(far.status, 400);
});

test("commit with a gap, with overlapping chunks, or with the wrong size: 400 and nothing visible", async () => {
  const gap = await v1(server.url, token, "POST", "caches", {
    key: "gap",
    version: VERSION,
    cacheSize: 6,
  });
  await v1(server.url, token, "PATCH", `caches/${gap.json.cacheId}`, Buffer.from("ab"), {
    "content-range": "bytes 0-1/*",
  });
  await v1(server.url, token, "PATCH", `caches/${gap.json.cacheId}`, Buffer.from("ef"), {
    "content-range": "bytes 4-5/*",
  });
  assert.equal(
    (await v1(server.url, token, "POST", `caches/${gap.json.cacheId}`, { size: 6 })).status,
    400,
  );
  const ov = await v1(server.url, token, "POST", "caches", {
    key: "overlap",
    version: VERSION,
    cacheSize: 4,
  });
  await v1(server.url, token, "PATCH", `caches/${ov.json.cacheId}`, Buffer.from("abc"), {
    "content-range": "bytes 0-2/*",
  });
  await v1(server.url, token, "PATCH", `caches/${ov.json.cacheId}`, Buffer.from("cd"), {
    "content-range": "bytes 2-3/*",
  });
  assert.equal(
    (await v1(server.url, token, "POST", `caches/${ov.json.cacheId}`, { size: 4 })).status,
    400,
  );
  assert.equal(
    (await v1(server.url, token, "POST", `caches/${ov.json.cacheId}`, { size: 5 })).status,
    400,
  );
  for (const size of [-1, 1.5, "4", null, 1e300]) {
    assert.equal(
      (await v1(server.url, token, "POST", `caches/${ov.json.cacheId}`, { size })).status,
      400,
      String(size),
    );
  }
  assert.equal((await v1Lookup(server.url, token, ["gap", "overlap"])).status, 204);
});

test("two reserves of the same key at once (v1 and v2): exactly one wins", async () => {
  const v1Answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      v1(server.url, token, "POST", "caches", { key: "race", version: VERSION, cacheSize: 1 }),
    ),
  );
  assert.equal(v1Answers.filter((a) => a.status === 201).length, 1);
  assert.ok(
    v1Answers.every((a) => a.status === 201 || a.status === 409),
    v1Answers.map((a) => a.status).join(","),
  );
  const v2Answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      twirp(server.url, token, "CreateCacheEntry", { key: "race-v2", version: VERSION }),
    ),
  );
  for (const a of v2Answers)
    if (a.json.signed_upload_url) urls.push(String(a.json.signed_upload_url));
  assert.equal(v2Answers.filter((a) => a.json.ok === true).length, 1);
  assert.equal(v2Answers.filter((a) => a.status === 409).length, 19);
});

/** Starts a PATCH of `bytes` at offset 0, sends all but its last byte, and returns a finisher. */
function slowPatch(id: number, bytes: string) {
  const { hostname, port } = new URL(server.url);
  return import("node:net").then(({ default: net }) => {
    const socket = net.connect(Number(port), hostname);
    let answer = "";
    socket.on("data", (c) => (answer += c.toString()));
    socket.write(
      `PATCH /_apis/artifactcache/caches/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-${bytes.length - 1}/*\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${bytes.slice(0, -1)}`,
    );
    return async () => {
      socket.write(bytes.slice(-1));
      const deadline = Date.now() + 3000;
      while (!answer.includes("\r\n\r\n") && Date.now() < deadline) await sleep(20);
      socket.destroy();
      return answer.split("\r\n")[0];
    };
  });
}

test("commit racing a chunk: a chunk in flight at commit time must not change the committed bytes", async () => {
  const key = `race-commit-${nextId()}`;
  const res = await v1(server.url, token, "POST", "caches", {
    key,
    version: VERSION,
    cacheSize: 4,
  });
  const id = res.json.cacheId as number;
  assert.equal(
    (
      await v1(server.url, token, "PATCH", `caches/${id}`, Buffer.from("GOOD"), {
        "content-range": "bytes 0-3/*",
      })
    ).status,
    204,
  );
  const finish = await slowPatch(id, "EVIL");
  await sleep(200); // the slow chunk has passed the auth and "still uploading" checks
  assert.equal((await v1(server.url, token, "POST", `caches/${id}`, { size: 4 })).status, 204);
  const first = await v1Lookup(server.url, token, [key]);
  urls.push(first.json.archiveLocation);
  assert.equal((await http(first.json.archiveLocation)).text, "GOOD");
  const status = await finish();
  const after = await http(first.json.archiveLocation);
  assert.equal(
    after.text,
    "GOOD",
    `committed entry changed after commit (late chunk answered "${status}")`,
  );
});

test("commit racing a chunk of another size: committed entry must stay downloadable whole", async () => {
  const key = `race-size-${nextId()}`;
  const res = await v1(server.url, token, "POST", "caches", {
    key,
    version: VERSION,
    cacheSize: 4,
  });
  const id = res.json.cacheId as number;
  await v1(server.url, token, "PATCH", `caches/${id}`, Buffer.from("GOOD"), {
    "content-range": "bytes 0-3/*",
  });
  const finish = await slowPatch(id, "XY");
  await sleep(200);
  assert.equal((await v1(server.url, token, "POST", `caches/${id}`, { size: 4 })).status, 204);
  await finish();
  const hit = await v1Lookup(server.url, token, [key]);
  urls.push(hit.json.archiveLocation);
  const got = await http(hit.json.archiveLocation, { signal: AbortSignal.timeout(3000) }).catch(
    (error: Error) => ({ status: -1, text: `fetch failed: ${error.message}` }),
  );
  assert.equal(
    got.text,
    "GOOD",
    `download after the race: ${got.status} ${JSON.stringify(got.text)}`,
  );
});

test("v2: Put Blob in flight at finalize replaces the committed bytes", async () => {
  const key = `race-v2-${nextId()}`;
  const url = await createV2(key);
  assert.equal((await put(url, "GOOD", { "x-ms-blob-type": "BlockBlob" })).status, 201);
  const { hostname, port } = new URL(server.url);
  const p = new URL(url);
  const net = (await import("node:net")).default;
  const socket = net.connect(Number(port), hostname);
  let answer = "";
  socket.on("data", (c) => (answer += c.toString()));
  socket.write(
    `PUT ${p.pathname}${p.search} HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: 4\r\nConnection: close\r\n\r\nEVI`,
  );
  await sleep(200);
  const fin = await twirp(server.url, token, "FinalizeCacheEntryUpload", {
    key,
    version: VERSION,
    size_bytes: "4",
  });
  assert.equal(fin.json.ok, true);
  socket.write("L");
  const deadline = Date.now() + 3000;
  while (!answer.includes("\r\n\r\n") && Date.now() < deadline) await sleep(20);
  socket.destroy();
  const hit = await twirp(server.url, token, "GetCacheEntryDownloadURL", {
    key,
    restore_keys: [],
    version: VERSION,
  });
  urls.push(String(hit.json.signed_download_url));
  const got = await http(String(hit.json.signed_download_url));
  assert.equal(
    got.text,
    "GOOD",
    `finalized entry changed afterwards (late Put Blob: ${answer.split("\r\n")[0]})`,
  );
});

test("slowloris: 100 connections trickling bodies do not stop other clients (bounded)", async () => {
  const res = await v1(server.url, token, "POST", "caches", {
    key: "slow",
    version: VERSION,
    cacheSize: 1000,
  });
  const id = res.json.cacheId;
  const { hostname, port } = new URL(server.url);
  const net = (await import("node:net")).default;
  const sockets = Array.from({ length: 100 }, () => {
    const s = net.connect(Number(port), hostname);
    s.on("error", () => undefined);
    s.write(
      `PATCH /_apis/artifactcache/caches/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-999/*\r\nContent-Length: 1000\r\n\r\na`,
    );
    return s;
  });
  try {
    await sleep(300);
    const started = Date.now();
    const hit = await v1Lookup(server.url, token, ["committed"]);
    assert.equal(hit.status, 200);
    assert.ok(Date.now() - started < 2000);
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test("no error-level log line (500) was caused by any client mistake above", async () => {
  await sleep(200);
  const lines = errorLines(server);
  assert.equal(lines.length, 0, JSON.stringify(lines).slice(0, 3000));
});
