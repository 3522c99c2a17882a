/**
 * Attacks on identity: forged, expired, foreign and mismatched runner tokens, and the v1
 * path credential against another runner's bearer. Each test names the refusal it expects.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SignJWT, UnsecuredJWT, generateKeyPair } from "jose";
import { mintRunnerToken } from "../../src/identity/runner-token.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { twirp } from "../protocol/v2-client.js";
import {
  assertNoSecrets,
  errorLines,
  nextId,
  secretsOf,
  v1,
  v1Lookup,
  v1Save,
  v2Lookup,
  v2Save,
  VERSION,
} from "./kit.js";

let server: TestServer;
const tokens: string[] = [];
const urls: string[] = [];
let victim: { token: string; runnerId: string };
const A = "octo/alpha";
const B = "octo/beta";

async function onJob(
  name: string,
  repository: string | null,
  jobRepo: string,
  branch: string,
  installationId = 1,
) {
  const { runner, token } = await server.registerRunner(name, repository, installationId);
  tokens.push(token);
  const jobId = nextId();
  const status = await server.jobEvent({
    action: "in_progress",
    jobId,
    runId: jobId * 10,
    repository: jobRepo,
    headBranch: branch,
    runnerName: name,
    installationId,
  });
  assert.equal(status, 200);
  return { runner, token, jobId };
}

before(async () => {
  server = await startTestServer();
  // Repository B's main branch holds a secret cache entry.
  const b = await onJob("b-main", B, B, "main");
  victim = { token: b.token, runnerId: b.runner.id };
  const saved = await v1Save(server.url, b.token, "secret-key", Buffer.from("B-SECRET"));
  assert.equal(saved.commit, 204);
  const v2 = await v2Save(server, b.token, "secret-v2");
  assert.equal(v2.finalized?.json.ok, true);
  if (v2.url) urls.push(v2.url);
});

after(async () => {
  assertNoSecrets(server, secretsOf(tokens, urls));
  await server.close();
});

const secret = () => server.server.services.secrets.tokenSecret;
const claims = (sub: string) => ({ sub, iss: "gha-cache", aud: "gha-cache/runner" });

test("alg none token naming a registered runner: refused 401", async () => {
  const forged = new UnsecuredJWT(claims(victim.runnerId)).encode();
  tokens.push(forged);
  const r = await v1Lookup(server.url, forged, ["secret-key"]);
  assert.equal(r.status, 401, r.text);
});

test("HS512 token with the right secret: refused 401", async () => {
  const forged = await new SignJWT(claims(victim.runnerId))
    .setProtectedHeader({ alg: "HS512" })
    .sign(secret());
  tokens.push(forged);
  assert.equal((await v1Lookup(server.url, forged, ["secret-key"])).status, 401);
});

test("RS256 token signed with an attacker key: refused 401", async () => {
  const { privateKey } = await generateKeyPair("RS256");
  const forged = await new SignJWT(claims(victim.runnerId))
    .setProtectedHeader({ alg: "RS256" })
    .sign(privateKey);
  tokens.push(forged);
  assert.equal((await v1Lookup(server.url, forged, ["secret-key"])).status, 401);
});

test("HS256 token signed with a wrong secret: refused 401", async () => {
  const forged = await new SignJWT(claims(victim.runnerId))
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode("wrong-secret-wrong-secret-wrong!!"));
  tokens.push(forged);
  assert.equal((await v1Lookup(server.url, forged, ["secret-key"])).status, 401);
});

test("alg confusion: HS256 token whose header says HS256 but lowercase/none variants: refused 401", async () => {
  const [h, p] = (await mintRunnerToken(secret(), { runnerId: victim.runnerId })).split(".");
  const noneHeader = Buffer.from(JSON.stringify({ alg: "NONE", typ: "JWT" })).toString("base64url");
  for (const forged of [`${noneHeader}.${p}.`, `${h}.${p}.`, `${h}.${p}`, `${noneHeader}.${p}`]) {
    const r = await v1Lookup(server.url, forged, ["secret-key"]);
    assert.equal(r.status, 401, `${forged.slice(0, 30)}: ${r.status}`);
  }
});

test("expired token (exp in the past): refused 401", async () => {
  const expired = await new SignJWT(claims(victim.runnerId))
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
    .sign(secret());
  tokens.push(expired);
  const r = await v1Lookup(server.url, expired, ["secret-key"]);
  assert.equal(r.status, 401);
  assert.match(r.text, /expired/);
});

test("not-yet-valid token (nbf in the future): refused 401", async () => {
  const early = await new SignJWT(claims(victim.runnerId))
    .setProtectedHeader({ alg: "HS256" })
    .setNotBefore(Math.floor(Date.now() / 1000) + 3600)
    .sign(secret());
  tokens.push(early);
  assert.equal((await v1Lookup(server.url, early, ["secret-key"])).status, 401);
});

test("token with a wrong audience or issuer (a GitHub-shaped token signed with our secret): refused 401", async () => {
  const wrongAud = await new SignJWT({ sub: victim.runnerId, iss: "gha-cache", aud: "other" })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secret());
  const noIss = await new SignJWT({ sub: victim.runnerId, aud: "gha-cache/runner" })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secret());
  tokens.push(wrongAud, noIss);
  assert.equal((await v1Lookup(server.url, wrongAud, ["secret-key"])).status, 401);
  assert.equal((await v1Lookup(server.url, noIss, ["secret-key"])).status, 401);
});

test("token for an unknown runner id: refused 401", async () => {
  const ghost = await mintRunnerToken(secret(), {
    runnerId: "00000000-0000-0000-0000-000000000000",
  });
  tokens.push(ghost);
  assert.equal((await v1Lookup(server.url, ghost, ["secret-key"])).status, 401);
});

test("token of a deleted runner: refused 401 (v1 and v2)", async () => {
  const gone = await onJob("to-delete", B, B, "main");
  assert.equal((await v1Lookup(server.url, gone.token, ["secret-key"])).status, 200);
  await server.server.services.runners.remove(gone.runner.id);
  assert.equal((await v1Lookup(server.url, gone.token, ["secret-key"])).status, 401);
  assert.equal((await v2Lookup(server, gone.token, "secret-v2")).status, 401);
});

test("runner of repository A asks for B's keys (v1 and v2): miss, never B's entry", async () => {
  const a = await onJob("a-main", A, A, "main");
  const r = await v1Lookup(server.url, a.token, ["secret-key"]);
  assert.equal(r.status, 204, r.text);
  const l = await v1(server.url, a.token, "GET", "caches?key=secret-key");
  assert.equal(l.json.totalCount, 0);
  const r2 = await v2Lookup(server, a.token, "secret-v2", ["secret-key", "secret"]);
  assert.equal(r2.json.ok ?? false, false);
});

test("runner of repository A whose webhook job names repository B (repo runner mismatch): refused", async () => {
  // A repository runner of A, but a job in B is reported on a runner of the same name.
  const { token } = await server.registerRunner("confused", A);
  tokens.push(token);
  const jobId = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId,
    runId: jobId * 10,
    repository: B,
    headBranch: "main",
    runnerName: "confused",
  });
  assert.equal((await v1Lookup(server.url, token, ["secret-key"])).status, 204);
  const save = await v1Save(server.url, token, "x");
  assert.equal(save.reserve, 403);
});

test("runner of repository A tries to PATCH/commit B's uploading entry id: 404", async () => {
  const b = await onJob("b-uploader", B, B, "main");
  const reserve = await v1(server.url, b.token, "POST", "caches", {
    key: "b-pending",
    version: VERSION,
    cacheSize: 4,
  });
  assert.equal(reserve.status, 201);
  const a = await onJob("a-writer", A, A, "main");
  const patch = await v1(
    server.url,
    a.token,
    "PATCH",
    `caches/${reserve.json.cacheId}`,
    Buffer.from("EVIL"),
    { "content-range": "bytes 0-3/*" },
  );
  assert.equal(patch.status, 404, patch.text);
  const commit = await v1(server.url, a.token, "POST", `caches/${reserve.json.cacheId}`, {
    size: 0,
  });
  assert.equal(commit.status, 404, commit.text);
});

test("org runner reading a repository it has no job in: only its job's repository", async () => {
  const org = await onJob("org-runner-1", null, A, "main");
  assert.equal((await v1Lookup(server.url, org.token, ["secret-key"])).status, 204);
  assert.equal((await v2Lookup(server, org.token, "secret-v2")).json.ok ?? false, false);
});

test("org runner of another installation with a job of the same runner name in B: cannot read B", async () => {
  const { token } = await server.registerRunner("b-main", null, 2);
  tokens.push(token);
  assert.equal((await v1Lookup(server.url, token, ["secret-key"])).status, 204);
});

test("v1 path credential /r/<A token>/ with B's token as bearer: acts as A only", async () => {
  const a = await onJob("a-path", A, A, "main");
  const r = await v1Lookup(`${server.url}/r/${a.token}`, victim.token, ["secret-key"]);
  assert.equal(r.status, 204, "the bearer (B) must not be used when the path holds a credential");
  // And the other way: a junk path credential with a valid bearer is refused, not bearer-authenticated.
  const junk = await v1Lookup(`${server.url}/r/junk`, victim.token, ["secret-key"]);
  assert.equal(junk.status, 401);
  // Path credential with an empty segment.
  const empty = await v1Lookup(`${server.url}/r/`, victim.token, ["secret-key"]);
  assert.notEqual(empty.status, 200);
});

test("overlong path credential: 4xx without echoing it, no 500", async () => {
  const long = "a".repeat(5000);
  const r = await v1Lookup(`${server.url}/r/${long}`, undefined, ["k"]);
  assert.ok(r.status >= 400 && r.status < 500, String(r.status));
  assert.ok(!r.text.includes(long.slice(0, 100)));
});

test("malformed bearer values (garbage, huge, multiple tokens): 401, never 500", async () => {
  for (const bearer of [
    "",
    "a.b.c",
    "....",
    "x".repeat(16 * 1024),
    `${victim.token} ${victim.token}`,
  ]) {
    const r = await v1Lookup(server.url, bearer, ["secret-key"]);
    assert.ok(
      r.status === 401 || r.status === 400 || r.status === 431,
      `${bearer.slice(0, 20)} -> ${r.status}`,
    );
  }
  const t = await twirp(server.url, "garbage", "GetCacheEntryDownloadURL", {
    key: "k",
    version: VERSION,
  });
  assert.equal(t.status, 401);
  assert.equal(errorLines(server).length, 0, JSON.stringify(errorLines(server)));
});
