/**
 * Runners whose ACTIONS_CACHE_URL carries their token (`<public url>/r/<token>/`): the real
 * `@actions/cache` 3.x client saves and restores through that URL while it sends GitHub's own
 * token as the bearer, as a stock runner makes it do. The token must reach no log line and no
 * error message.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { MiB } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { digestTree, tempDir, writeRandomFile, writeSmallFiles } from "../helpers/trees.js";
import { messageOf, runnerOnBranch, V1Client, v1Call, warnings } from "./v1-client.js";

const REPOSITORY = "octo/path-credential";
/** What a stock runner sends as the bearer: GitHub's token, which is not ours to verify. */
const GITHUB_BEARER = "github-token";
const VERSION = "e".repeat(64);

let server: TestServer;
let token: string;
let workspace: string;

before(async () => {
  server = await startTestServer();
  token = (await runnerOnBranch(server, "runner-path", REPOSITORY, "main")).token;
  workspace = await tempDir("workspace");
});

after(async () => {
  await server.close();
  await rm(workspace, { recursive: true, force: true });
});

function noLineHas(secret: string): void {
  const leaks = server.rawLogs.filter((line) => line.includes(secret));
  assert.deepEqual(leaks, [], "a log line carries the credential");
}

test("the real v1 client saves and restores through /r/<token>/ with GitHub's token as bearer", async () => {
  const client = new V1Client(
    `${server.url}/r/${token}`,
    GITHUB_BEARER,
    workspace,
    await tempDir("temp"),
  );
  const tree = path.join(workspace, "deps");
  await writeSmallFiles(tree, 20);
  await writeRandomFile(path.join(tree, "blob.bin"), 2 * MiB);
  const before = await digestTree(tree);

  const saved = await client.save([tree], "path-credential-1");
  assert.ok(saved.value > 0, `save failed: ${warnings(saved).join("; ")}`);
  await rm(tree, { recursive: true });
  const restored = await client.restore([tree], "path-credential-1");

  assert.equal(
    restored.value,
    "path-credential-1",
    `restore failed: ${warnings(restored).join("; ")}`,
  );
  assert.deepEqual(await digestTree(tree), before);
  const decisions = server.logs.filter((line) => line.event === "scope_decision");
  assert.ok(decisions.length >= 3);
  assert.ok(decisions.every((line) => line.allowed === true && line.runner === "runner-path"));
  noLineHas(token);
  noLineHas(token.split(".")[2]!);
});

test("the path credential wins over a valid runner token in the Authorization header", async () => {
  const other = await runnerOnBranch(server, "runner-other", "octo/elsewhere", "main");
  const lookup = await v1Call(
    `${server.url}/r/${token}`,
    other.token,
    "GET",
    `cache?keys=x&version=${VERSION}`,
  );

  assert.equal(lookup.status, 204);
  const last = server.logs.filter((line) => line.event === "scope_decision").at(-1);
  assert.equal(last?.runner, "runner-path");
  assert.equal(last?.repository, REPOSITORY);
});

test("a bad path token is a 401 that does not repeat it, and no log line has it", async () => {
  const forged = `${token.slice(0, -4)}AAAA`;
  const answer = await v1Call(
    `${server.url}/r/${forged}`,
    GITHUB_BEARER,
    "GET",
    `cache?keys=x&version=${VERSION}`,
  );

  assert.equal(answer.status, 401);
  assert.match(messageOf(answer), /runner token signature does not verify/);
  assert.ok(!JSON.stringify(answer.body).includes(forged.slice(-40)));
  noLineHas(forged.split(".")[2]!);
});

test("an unknown route under the prefix is a 404 that does not repeat the path", async () => {
  const answer = await fetch(`${server.url}/r/${token}/_apis/other/thing`);
  const body = await answer.text();

  assert.equal(answer.status, 404);
  assert.ok(!body.includes(token.slice(-40)), body);
  assert.ok(!body.includes("other/thing"), body);
  noLineHas(token.split(".")[2]!);
});

test("a bare /r/ segment without a token is not a route", async () => {
  const answer = await fetch(
    `${server.url}/r//_apis/artifactcache/cache?keys=x&version=${VERSION}`,
  );

  assert.ok(answer.status === 401 || answer.status === 404, String(answer.status));
});

test("router refusals (bad percent-encoding, an overlong segment) do not quote the URL", async () => {
  const badEncoding = await fetch(`${server.url}/r/${token}%ZZ/_apis/artifactcache/caches`);
  const overlong = await fetch(`${server.url}/r/${"x".repeat(3000)}/_apis/artifactcache/caches`);

  assert.equal(badEncoding.status, 400);
  assert.doesNotMatch(await badEncoding.text(), /_apis|%ZZ/);
  assert.ok(overlong.status >= 400 && overlong.status < 500);
  assert.doesNotMatch(await overlong.text(), /xxxx/);
  noLineHas(token.split(".")[2]!);
});
