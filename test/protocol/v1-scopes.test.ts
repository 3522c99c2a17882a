/**
 * Who may read and write which cache through v1: a job reads its own branch, then the default
 * branch, and writes only its own branch; a runner with no job, or whose job completed, gets
 * nothing; a request without a valid runner token is 401. Driven by the real 3.x client where
 * a workflow would use it, by raw HTTP where only the status tells.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import * as currentClient from "@actions/cache";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { tempDir } from "../helpers/trees.js";
import {
  completeJob,
  messageOf,
  runnerOnBranch,
  said,
  v1Call,
  V1Client,
  warnings,
} from "./v1-client.js";

const REPOSITORY = "octo/scopes";
const VERSION = "a".repeat(64);

let server: TestServer;
let workspace: string;
let runnerTemp: string;

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

async function clientOn(branch: string, name: string): Promise<V1Client> {
  const runner = await runnerOnBranch(server, name, REPOSITORY, branch);
  return new V1Client(server.url, runner.token, workspace, runnerTemp);
}

/** Saves a folder holding one file that says who wrote it. */
async function saveFrom(client: V1Client, dir: string, key: string, writer: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await writeFile(await ensureDir(dir, "who"), writer);
  const saved = await client.save([dir], key);
  assert.ok(saved.value > 0, `save by ${writer} failed: ${warnings(saved).join("; ")}`);
}

async function ensureDir(dir: string, file: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return path.join(dir, file);
}

/** Who wrote what this client restores for `key`, or undefined on a miss. */
async function restoredWriter(
  client: V1Client,
  dir: string,
  key: string,
): Promise<string | undefined> {
  await rm(dir, { recursive: true, force: true });
  const restored = await client.restore([dir], key);
  assert.deepEqual(warnings(restored), [], "a miss must be a clean miss, not a failure");
  return restored.value === undefined ? undefined : readFile(path.join(dir, "who"), "utf8");
}

test("a feature-branch job restores what the default branch saved", async () => {
  const dir = path.join(workspace, "shared");
  await saveFrom(await clientOn("main", "main-saver"), dir, "deps", "main");
  assert.equal(
    await restoredWriter(await clientOn("feature-a", "feature-reader"), dir, "deps"),
    "main",
  );
});

test("a feature branch reads its own entry before the default branch's", async () => {
  const dir = path.join(workspace, "own-first");
  await saveFrom(await clientOn("main", "main-own"), dir, "deps", "main");
  const feature = await clientOn("feature-own", "feature-own");
  await saveFrom(feature, dir, "deps", "feature-own");
  assert.equal(await restoredWriter(feature, dir, "deps"), "feature-own");
});

test("the default branch never sees a feature branch's entries", async () => {
  const dir = path.join(workspace, "feature-only");
  await saveFrom(await clientOn("feature-b", "feature-b-saver"), dir, "feature-deps", "feature-b");
  assert.equal(
    await restoredWriter(await clientOn("main", "main-reader"), dir, "feature-deps"),
    undefined,
  );
});

test("two feature branches never see each other's entries", async () => {
  const dir = path.join(workspace, "siblings");
  await saveFrom(await clientOn("feature-c", "feature-c-saver"), dir, "sibling-deps", "feature-c");
  assert.equal(
    await restoredWriter(await clientOn("feature-d", "feature-d-reader"), dir, "sibling-deps"),
    undefined,
  );
});

test("a runner whose job completed misses on lookup and is refused a save", async () => {
  const dir = path.join(workspace, "completed");
  const runner = await runnerOnBranch(server, "finished", REPOSITORY, "main");
  const client = new V1Client(server.url, runner.token, workspace, runnerTemp);
  await saveFrom(client, dir, "before-completion", "finished");

  await completeJob(server, runner);

  assert.equal(await restoredWriter(client, dir, "before-completion"), undefined);
  const lookup = await v1Call(
    server.url,
    runner.token,
    "GET",
    `cache?keys=before-completion&version=${VERSION}`,
  );
  assert.equal(lookup.status, 204);
  const reserve = await v1Call(server.url, runner.token, "POST", "caches", {
    key: "after",
    version: VERSION,
    cacheSize: 1,
  });
  assert.equal(reserve.status, 403);
  assert.match(messageOf(reserve), /^cache write denied: .*completed/);
});

test("a runner with no job misses on lookup and is refused a save", async () => {
  const { token } = await server.registerRunner("idle", REPOSITORY);
  const lookup = await v1Call(server.url, token, "GET", `cache?keys=deps&version=${VERSION}`);
  assert.equal(lookup.status, 204);
  assert.equal(lookup.body, undefined);
  const reserve = await v1Call(server.url, token, "POST", "caches", {
    key: "deps",
    version: VERSION,
    cacheSize: 1,
  });
  assert.equal(reserve.status, 403);
  assert.match(messageOf(reserve), /^cache write denied: \S/);
});

test("the 3.x client reports a refused save and carries on", async () => {
  const { token } = await server.registerRunner("idle-client", REPOSITORY);
  const client = new V1Client(server.url, token, workspace, runnerTemp);
  const dir = path.join(workspace, "refused");
  await writeFile(await ensureDir(dir, "who"), "nobody");
  const saved = await client.save([dir], "refused");
  assert.equal(saved.value, -1);
  assert.ok(said(saved, "More details: cache write denied: "), saved.output.join("\n"));
});

test("the current client recognises a refused v1 save as a write denial", async () => {
  const { token } = await server.registerRunner("idle-current", REPOSITORY);
  const client = new V1Client(server.url, token, workspace, runnerTemp, currentClient);
  const dir = path.join(workspace, "refused-current");
  await writeFile(await ensureDir(dir, "who"), "nobody");
  const saved = await client.save([dir], "refused");
  assert.ok(
    warnings(saved).some(
      (line) => line.includes("Unable to reserve cache") && line.includes("cache write denied:"),
    ),
    saved.output.join("\n"),
  );
});

test("a request without a token, or with a garbage token, is 401", async () => {
  const calls: [string, string, unknown?][] = [
    ["GET", `cache?keys=deps&version=${VERSION}`],
    ["GET", "caches?key=deps"],
    ["POST", "caches", { key: "deps", version: VERSION, cacheSize: 1 }],
    ["POST", "caches/1", { size: 1 }],
  ];
  for (const token of [undefined, "garbage", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"]) {
    for (const [method, resource, body] of calls) {
      const response = await v1Call(server.url, token, method, resource, body);
      assert.equal(response.status, 401, `${method} ${resource} with token ${String(token)}`);
      assert.match(messageOf(response), /token|Authorization/);
    }
  }
});

test("no log line carries a runner token or a URL signature", () => {
  for (const line of server.rawLogs) {
    assert.ok(
      !/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(line),
      `token in log line: ${line.slice(0, 200)}`,
    );
    assert.ok(!line.includes("sig="), `signature in log line: ${line.slice(0, 200)}`);
  }
});
