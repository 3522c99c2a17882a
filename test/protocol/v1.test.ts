/**
 * The v1 cache API driven end to end by the real `@actions/cache` 3.x client, with real tar and
 * zstd, against a real server: what a workflow's save and restore steps do.
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { MiB } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { digestTree, tempDir, writeRandomFile, writeSmallFiles } from "../helpers/trees.js";
import { runnerOnBranch, V1Client, warnings } from "./v1-client.js";

const REPOSITORY = "octo/app";
const SMALL_FILE_COUNT = 3000;
const RANDOM_FILE_BYTES = 3 * MiB;
/** Small chunks make the client split a few MiB into many parallel, out-of-order PATCHes. */
const SMALL_CHUNK_BYTES = 1 * MiB;
const UPLOAD_CONCURRENCY = 4;

let server: TestServer;
let client: V1Client;
let workspace: string;

before(async () => {
  server = await startTestServer();
  const runner = await runnerOnBranch(server, "runner-main", REPOSITORY, "main");
  workspace = await tempDir("workspace");
  client = new V1Client(server.url, runner.token, workspace, await tempDir("runner-temp"));
});

after(async () => {
  await server.close();
  await rm(workspace, { recursive: true, force: true });
});

test("a tree of thousands of small files and a random file saves and restores byte-identical", async () => {
  const tree = path.join(workspace, "deps");
  await writeSmallFiles(tree, SMALL_FILE_COUNT);
  await writeRandomFile(path.join(tree, "blob.bin"), RANDOM_FILE_BYTES);
  const before = await digestTree(tree);

  const saved = await client.save([tree], "deps-linux-1");
  assert.ok(saved.value > 0, `save failed: ${warnings(saved).join("; ")}`);
  await rm(tree, { recursive: true });

  const restored = await client.restore([tree], "deps-linux-1");
  assert.equal(restored.value, "deps-linux-1", `restore failed: ${warnings(restored).join("; ")}`);
  assert.equal(before.size, SMALL_FILE_COUNT + 1);
  assert.deepEqual(await digestTree(tree), before);
});

test("an archive uploaded in small parallel chunks, out of order, restores byte-identical", async () => {
  const tree = path.join(workspace, "chunked");
  await writeRandomFile(path.join(tree, "a.bin"), 5 * MiB + 12345);
  await writeRandomFile(path.join(tree, "b.bin"), 2 * MiB);
  const before = await digestTree(tree);

  const saved = await client.save([tree], "chunked-1", {
    uploadChunkSize: SMALL_CHUNK_BYTES,
    uploadConcurrency: UPLOAD_CONCURRENCY,
  });
  assert.ok(saved.value > 0, `save failed: ${warnings(saved).join("; ")}`);
  const parts = await server.server.services.db
    .selectFrom("entry_parts")
    .select("offset")
    .where("entry_id", "=", saved.value)
    .execute();
  assert.ok(parts.length >= 7, `expected at least 7 chunks, got ${parts.length}`);
  await rm(tree, { recursive: true });

  const restored = await client.restore([tree], "chunked-1");
  assert.equal(restored.value, "chunked-1");
  assert.deepEqual(await digestTree(tree), before);
});

/** Saves one small file whose content names the key, so a restore shows which entry it got. */
async function saveMarker(dir: string, key: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await writeSmallFiles(dir, 1);
  await writeFile(path.join(dir, "marker"), key);
  const saved = await client.save([dir], key);
  assert.ok(saved.value > 0, `save of ${key} failed: ${warnings(saved).join("; ")}`);
}

async function restoredMarker(
  dir: string,
  key: string,
  restoreKeys: string[] = [],
): Promise<string | undefined> {
  await rm(dir, { recursive: true, force: true });
  const restored = await client.restore([dir], key, restoreKeys);
  if (restored.value === undefined) return undefined;
  assert.equal(await readFile(path.join(dir, "marker"), "utf8"), restored.value);
  return restored.value;
}

test("the exact key beats a newer entry whose key merely starts with it", async () => {
  const dir = path.join(workspace, "exact");
  await saveMarker(dir, "exact-npm");
  await saveMarker(dir, "exact-npm-newer");
  assert.equal(await restoredMarker(dir, "exact-npm"), "exact-npm");
});

test("without an exact match the newest entry with the key as prefix wins", async () => {
  const dir = path.join(workspace, "prefix");
  await saveMarker(dir, "prefix-a-1");
  await saveMarker(dir, "prefix-a-2");
  assert.equal(await restoredMarker(dir, "prefix-a-"), "prefix-a-2");
});

test("restore keys are tried in order after the primary key misses", async () => {
  const dir = path.join(workspace, "order");
  await saveMarker(dir, "order-first-x");
  await saveMarker(dir, "order-second-x");
  assert.equal(
    await restoredMarker(dir, "order-missing", ["order-nope-", "order-first-", "order-second-"]),
    "order-first-x",
  );
  assert.equal(
    await restoredMarker(dir, "order-missing", ["order-second-", "order-first-"]),
    "order-second-x",
  );
  assert.equal(await restoredMarker(dir, "order-missing", ["order-nope-"]), undefined);
});

test("% and _ in keys match only themselves, never as wildcards", async () => {
  const dir = path.join(workspace, "literal");
  await saveMarker(dir, "lit-abc-1");
  assert.equal(await restoredMarker(dir, "lit-%"), undefined);
  assert.equal(await restoredMarker(dir, "lit-_bc"), undefined);
  await saveMarker(dir, "lit-%_-2");
  assert.equal(await restoredMarker(dir, "lit-%"), "lit-%_-2");
});

test("no log line carries the runner token or a URL signature", () => {
  const token = client.token;
  for (const line of server.rawLogs) {
    assert.ok(!line.includes(token), `token in log line: ${line.slice(0, 200)}`);
    assert.ok(!/sig=/.test(line), `signature in log line: ${line.slice(0, 200)}`);
  }
});
