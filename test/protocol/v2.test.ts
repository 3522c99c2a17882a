/**
 * The v2 cache API driven end to end by the real current `@actions/cache`, with real tar and
 * zstd, against a real server: Twirp calls, Azure uploads through the signed URL (Put Blob, and
 * Put Block with Put Block List above 128 MiB), and downloads through the signed URL.
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { MiB } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { digestTree, tempDir, writeRandomFile, writeSmallFiles } from "../helpers/trees.js";
import {
  assertNoSecretsLogged,
  completeJob,
  runnerOnBranch,
  V2Client,
  warnings,
} from "./v2-client.js";

const REPOSITORY = "octo/app";
const SMALL_FILE_COUNT = 3000;
/**
 * Above the client's 128 MiB single-shot limit, so it stages 64 MiB blocks, 8 at a time; more
 * than eight blocks, so all eight of the client's workers have a block in flight at once.
 */
const LARGE_FILE_BYTES = 520 * MiB;
/** The Azure SDK's upload concurrency as @actions/cache sets it for v2. */
const CLIENT_BLOCKS_IN_FLIGHT = 8;
const CLIENT_BLOCK_BYTES = 64 * MiB;
const RSS_SAMPLE_INTERVAL_MS = 20;

let server: TestServer;
let workspace: string;
let runnerTemp: string;
const tokens: string[] = [];

before(async () => {
  server = await startTestServer();
  workspace = await tempDir("workspace");
  runnerTemp = await tempDir("runner-temp");
});

after(async () => {
  await server.close();
  await rm(workspace, { recursive: true, force: true });
  await rm(runnerTemp, { recursive: true, force: true });
});

async function clientOnBranch(runnerName: string, branch: string): Promise<V2Client> {
  return (await runnerWithClient(runnerName, branch)).client;
}

async function runnerWithClient(runnerName: string, branch: string) {
  const runner = await runnerOnBranch(server, runnerName, REPOSITORY, branch);
  tokens.push(runner.token);
  return { runner, client: new V2Client(server.url, runner.token, workspace, runnerTemp) };
}

/** Writes a one-file tree whose content names `label`, and returns its digest. */
async function labelledTree(dir: string, label: string): Promise<Map<string, string>> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "label.txt"), `${label}\n`);
  return digestTree(dir);
}

function operationsLogged(entryId: number): string[] {
  return server.logs
    .filter((line) => line.event === "blob_written" && line.entryId === entryId)
    .map((line) => String(line.operation));
}

test("a tree of thousands of small files saves with Put Blob and restores byte-identical", async () => {
  const client = await clientOnBranch("runner-small", "main");
  const tree = path.join(workspace, "deps");
  await writeSmallFiles(tree, SMALL_FILE_COUNT);
  const before = await digestTree(tree);

  const saved = await client.save([tree], "deps-linux-1");
  assert.ok(saved.value > 0, `save failed: ${warnings(saved).join("; ")}`);
  assert.deepEqual(operationsLogged(saved.value), ["put-blob"]);
  await rm(tree, { recursive: true });

  const restored = await client.restore([tree], "deps-linux-1");
  assert.equal(restored.value, "deps-linux-1", `restore failed: ${warnings(restored).join("; ")}`);
  assert.equal(before.size, SMALL_FILE_COUNT);
  assert.deepEqual(await digestTree(tree), before);
});

test("an archive over 128 MiB goes up as 8 blocks in flight with flat server memory and restores byte-identical", async (t) => {
  const client = await clientOnBranch("runner-large", "main");
  const tree = path.join(workspace, "large");
  await writeRandomFile(path.join(tree, "random.bin"), LARGE_FILE_BYTES);
  const before = await digestTree(tree);

  // Server and client share this process, so the growth bounds both together.
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_SAMPLE_INTERVAL_MS);
  let saved;
  try {
    saved = await client.save([tree], "large-1");
  } finally {
    clearInterval(sampler);
  }
  assert.ok(saved.value > 0, `save failed: ${warnings(saved).join("; ")}`);

  const entry = await server.server.services.db
    .selectFrom("cache_entries")
    .select(["size"])
    .where("id", "=", saved.value)
    .executeTakeFirstOrThrow();
  const archiveBytes = Number(entry.size);
  assert.ok(archiveBytes > LARGE_FILE_BYTES, "random bytes do not compress");
  const operations = operationsLogged(saved.value);
  assert.equal(
    operations.filter((op) => op === "put-block").length,
    Math.ceil(archiveBytes / CLIENT_BLOCK_BYTES),
  );
  assert.deepEqual(
    operations.filter((op) => op !== "put-block"),
    ["put-block-list"],
  );
  assert.equal(server.server.services.uploads.activity.peakBodiesInFlight, CLIENT_BLOCKS_IN_FLIGHT);
  const growth = peak - baseline;
  const inMiB = (bytes: number) => Math.round(bytes / MiB);
  t.diagnostic(
    `archive ${inMiB(archiveBytes)} MiB, memory growth during the upload ${inMiB(growth)} MiB`,
  );
  assert.ok(
    growth < archiveBytes / 2,
    `memory grew by ${Math.round(growth / MiB)} MiB during the upload`,
  );

  await rm(tree, { recursive: true });
  const restored = await client.restore([tree], "large-1");
  assert.equal(restored.value, "large-1", `restore failed: ${warnings(restored).join("; ")}`);
  assert.deepEqual(await digestTree(tree), before);
});

test("a feature branch restores what the default branch saved, and the default branch never sees the feature's", async () => {
  const main = await clientOnBranch("runner-main", "main");
  const feature = await clientOnBranch("runner-feature", "feature");
  const tree = path.join(workspace, "branches");

  const fromMain = await labelledTree(tree, "saved on main");
  assert.ok((await main.save([tree], "tools-1")).value > 0);
  const fromFeature = await labelledTree(tree, "saved on feature");
  assert.ok((await feature.save([tree], "feature-tools-1")).value > 0);

  await rm(tree, { recursive: true });
  assert.equal((await feature.restore([tree], "tools-1")).value, "tools-1");
  assert.deepEqual(await digestTree(tree), fromMain);

  await rm(tree, { recursive: true });
  assert.equal((await main.restore([tree], "feature-tools-1")).value, undefined);
  assert.equal((await main.restore([tree], "feature-tools", ["feature-"])).value, undefined);
  assert.deepEqual(fromFeature.size, 1);
});

test("two feature branches save the same key without seeing each other's entry", async () => {
  const left = await clientOnBranch("runner-left", "left");
  const right = await clientOnBranch("runner-right", "right");
  const tree = path.join(workspace, "siblings");

  const leftTree = await labelledTree(tree, "left");
  assert.ok((await left.save([tree], "same-key")).value > 0);
  const rightTree = await labelledTree(tree, "right");
  assert.ok((await right.save([tree], "same-key")).value > 0);

  await rm(tree, { recursive: true });
  assert.equal((await left.restore([tree], "same-key")).value, "same-key");
  assert.deepEqual(await digestTree(tree), leftTree);
  await rm(tree, { recursive: true });
  assert.equal((await right.restore([tree], "same-key")).value, "same-key");
  assert.deepEqual(await digestTree(tree), rightTree);
});

test("a runner without a job, or whose job completed, may neither save nor restore", async () => {
  const tree = path.join(workspace, "denied");
  await labelledTree(tree, "denied");
  const { runner, client: main } = await runnerWithClient("runner-done", "main");
  assert.ok((await main.save([tree], "denied-1")).value > 0);

  const { token } = await server.registerRunner("runner-idle", REPOSITORY);
  tokens.push(token);
  const idle = new V2Client(server.url, token, workspace, runnerTemp);
  const idleSave = await idle.save([tree], "denied-2");
  assert.equal(idleSave.value, -1);
  assert.match(warnings(idleSave).join("\n"), /cache write denied: /);
  assert.equal((await idle.restore([tree], "denied-1")).value, undefined);

  await completeJob(server, runner);
  const lateSave = await main.save([tree], "denied-3");
  assert.equal(lateSave.value, -1);
  assert.match(warnings(lateSave).join("\n"), /cache write denied: .*complete/);
  assert.equal((await main.restore([tree], "denied-1")).value, undefined);
});

test("no log line holds a runner token or a signed URL's signature", async () => {
  const signatures = server.logs.flatMap(
    (line) => JSON.stringify(line).match(/sig=[A-Za-z0-9_-]+/g) ?? [],
  );
  assert.deepEqual(signatures, []);
  assertNoSecretsLogged(server, tokens, []);
});
