/**
 * GitHub's own runtime token as the bearer of v2 calls: verified against a JWKS served on
 * 127.0.0.1 by the test, scopes taken from its `ac` claim, cross-checked with the webhook's
 * record of the same run, and refused with a clear 401 for every way a token can be wrong.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { twirp, type TwirpResult } from "../protocol/v2-client.js";
import { runnerOnBranch } from "../protocol/v1-client.js";

const ISSUER = "https://issuer.test";
const KID = "test-key-1";
const REPOSITORY = "octo/tokened";
const VERSION = "f".repeat(64);
const HOUR_S = 3600;

let jwks: Server;
let jwksUrl: string;
let jwksFetches = 0;
let key: CryptoKey;
let otherKey: CryptoKey;
let server: TestServer;

before(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  const published = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  key = pair.privateKey;
  ({ privateKey: otherKey } = await generateKeyPair("RS256"));
  jwks = createServer((_request, response) => {
    jwksFetches += 1;
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ keys: [published] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`;
  server = await startTestServer({
    GHA_CACHE_GITHUB_TOKEN_JWKS_URL: jwksUrl,
    GHA_CACHE_GITHUB_TOKEN_ISSUER: ISSUER,
    GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM: "repository",
    GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM: "run_id",
  });
});

after(async () => {
  await server.close();
  await new Promise<void>((resolve) => jwks.close(() => resolve()));
});

interface TokenSpec {
  scopes?: [string, number][];
  claims?: JWTPayload;
  alg?: string;
  signWith?: CryptoKey | Uint8Array;
  kid?: string;
  issuer?: string;
  expiresAt?: number;
  notBefore?: number;
}

let nextRunId = 70_000;

/** A token shaped like GitHub's: `ac` as a JSON string, the repository and run id as claims. */
async function githubToken(spec: TokenSpec = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const ac = (spec.scopes ?? [["refs/heads/main", 3]]).map(([Scope, Permission]) => ({
    Scope,
    Permission,
  }));
  return new SignJWT({
    ac: JSON.stringify(ac),
    repository: REPOSITORY,
    run_id: String(nextRunId++),
    ...spec.claims,
  })
    .setProtectedHeader({ alg: spec.alg ?? "RS256", kid: spec.kid ?? KID, typ: "JWT" })
    .setIssuer(spec.issuer ?? ISSUER)
    .setIssuedAt(now)
    .setNotBefore(spec.notBefore ?? now)
    .setExpirationTime(spec.expiresAt ?? now + HOUR_S)
    .sign(spec.signWith ?? key);
}

const call = (token: string, method: string, body: Record<string, unknown>): Promise<TwirpResult> =>
  twirp(server.url, token, method, body);

/** Reserves, uploads a few bytes through the signed URL, and finalizes: a committed entry. */
async function save(token: string, key: string): Promise<void> {
  const created = await call(token, "CreateCacheEntry", { key, version: VERSION });
  assert.equal(created.json.ok, true, JSON.stringify(created.json));
  const bytes = Buffer.from(`archive of ${key}`);
  const put = await fetch(String(created.json.signed_upload_url), {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob", "content-type": "application/octet-stream" },
    body: bytes,
  });
  assert.equal(put.status, 201);
  const finalized = await call(token, "FinalizeCacheEntryUpload", {
    key,
    version: VERSION,
    size_bytes: String(bytes.length),
  });
  assert.equal(finalized.json.ok, true, JSON.stringify(finalized.json));
}

const lookup = (token: string, key: string) =>
  call(token, "GetCacheEntryDownloadURL", { key, version: VERSION });

test("a GitHub token saves to its writable scope and reads its scopes in token order", async () => {
  const onMain = await githubToken({ scopes: [["refs/heads/main", 3]] });
  await save(onMain, "gh-shared");
  const onFeature = await githubToken({
    scopes: [
      ["refs/heads/feature", 3],
      ["refs/heads/main", 1],
    ],
  });
  await save(onFeature, "gh-feature-only");

  assert.equal((await lookup(onFeature, "gh-shared")).json.matched_key, "gh-shared");
  assert.equal((await lookup(onFeature, "gh-feature-only")).json.ok, true);
  assert.equal((await lookup(onMain, "gh-feature-only")).json.ok, false);
  const entry = await server.server.services.db
    .selectFrom("cache_entries")
    .select(["scope", "repository"])
    .where("key", "=", "gh-feature-only")
    .executeTakeFirst();
  assert.deepEqual(entry, { scope: "refs/heads/feature", repository: REPOSITORY });
});

test("a token without a write bit may read but not save", async () => {
  const readOnly = await githubToken({ scopes: [["refs/heads/main", 1]] });
  const created = await call(readOnly, "CreateCacheEntry", {
    key: "gh-read-only",
    version: VERSION,
  });

  assert.equal(created.status, 200);
  assert.notEqual(created.json.ok, true);
  assert.match(String(created.json.message), /^cache write denied: .*no writable scope/);
  assert.equal((await lookup(readOnly, "gh-shared")).json.ok, true);
});

test("runner tokens keep working beside GitHub tokens", async () => {
  const runner = await runnerOnBranch(server, "runner-beside", "octo/runner-repo", "main");
  const created = await call(runner.token, "CreateCacheEntry", {
    key: "runner-key",
    version: VERSION,
  });

  assert.equal(created.json.ok, true, JSON.stringify(created.json));
});

const refusals: [string, () => Promise<string>, RegExp][] = [
  [
    "an HS256 token",
    () => githubToken({ alg: "HS256", signWith: new TextEncoder().encode("s".repeat(32)) }),
    /must be signed with RS256/,
  ],
  ["an unsigned (alg none) token", async () => unsigned(), /must be signed with RS256/],
  [
    "a token of another issuer",
    () => githubToken({ issuer: "https://someone-else.test" }),
    /another issuer/,
  ],
  [
    "an expired token",
    () => githubToken({ expiresAt: Math.floor(Date.now() / 1000) - HOUR_S }),
    /has expired/,
  ],
  [
    "a token not valid yet",
    () => githubToken({ notBefore: Math.floor(Date.now() / 1000) + HOUR_S }),
    /not valid yet/,
  ],
  ["a token with an unknown kid", () => githubToken({ kid: "retired-key" }), /key \(kid\)/],
  [
    "a token signed with another key",
    () => githubToken({ signWith: otherKey }),
    /signature does not verify/,
  ],
  [
    "a token without the repository claim",
    () => githubToken({ claims: { repository: undefined } }),
    /claim "repository"/,
  ],
  ["a token whose ac is not JSON", () => githubToken({ claims: { ac: "[{" } }), /claim "ac"/],
];

for (const [what, make, message] of refusals) {
  test(`${what} is refused with 401 and a message that says why`, async () => {
    const token = await make();
    const answer = await lookup(token, "gh-shared");

    assert.equal(answer.status, 401);
    assert.equal(answer.json.code, "unauthenticated");
    assert.match(String(answer.json.msg), message);
    assert.ok(!server.rawLogs.some((line) => line.includes(token.split(".")[2] || token)));
  });
}

function unsigned(): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    exp: now + HOUR_S,
    repository: REPOSITORY,
    ac: '[{"Scope":"refs/heads/main","Permission":3}]',
  };
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

test("keys are fetched once and reused across calls", async () => {
  const before = jwksFetches;
  for (let i = 0; i < 3; i += 1) await lookup(await githubToken(), "gh-shared");

  assert.ok(jwksFetches - before <= 1, `fetched ${jwksFetches - before} times`);
});

/** Tells the server, by webhook, that run `runId` of `repository` has a job on `branch`. */
async function recordRun(
  runId: number,
  repository: string,
  branch: string,
  action: "in_progress" | "completed",
) {
  const status = await server.jobEvent({
    action,
    jobId: runId + 1,
    runId,
    repository,
    headBranch: branch,
    runnerName: "any-runner",
  });
  assert.equal(status, 200);
}

test("a token for a run the webhook places in another repository is refused and logged", async () => {
  const runId = 91_001;
  await recordRun(runId, "octo/elsewhere", "main", "in_progress");
  const token = await githubToken({ claims: { run_id: String(runId) } });

  assert.equal((await lookup(token, "gh-shared")).json.ok, false);
  const logged = server.logs.find(
    (line) => line.event === "github_token_disagrees" && line.run === runId,
  );
  assert.match(String(logged?.reason), /belongs to octo\/elsewhere/);
});

test("a token writing another branch than its run's is refused", async () => {
  const runId = 91_002;
  await recordRun(runId, REPOSITORY, "main", "in_progress");
  const token = await githubToken({
    scopes: [["refs/heads/other", 3]],
    claims: { run_id: String(runId) },
  });
  const created = await call(token, "CreateCacheEntry", { key: "gh-mismatch", version: VERSION });

  assert.match(
    String(created.json.message),
    /^cache write denied: GitHub token and webhook disagree/,
  );
});

test("a token for a run whose jobs have all completed is worth nothing", async () => {
  const runId = 91_003;
  await recordRun(runId, REPOSITORY, "main", "in_progress");
  const token = await githubToken({ claims: { run_id: String(runId) } });
  assert.equal((await lookup(token, "gh-shared")).json.ok, true);

  await recordRun(runId, REPOSITORY, "main", "completed");
  assert.equal((await lookup(token, "gh-shared")).json.ok, false);
});

test("a JWKS that cannot be reached is a 503, not a refusal of the token", async () => {
  const unreachable = await startTestServer({
    GHA_CACHE_GITHUB_TOKEN_JWKS_URL: "http://127.0.0.1:9/jwks",
    GHA_CACHE_GITHUB_TOKEN_ISSUER: ISSUER,
    GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM: "repository",
  });
  try {
    const answer = await twirp(unreachable.url, await githubToken(), "GetCacheEntryDownloadURL", {
      key: "k",
      version: VERSION,
    });
    assert.equal(answer.status, 503);
    assert.match(String(answer.json.msg), /JWKS .* could not be fetched/);
  } finally {
    await unreachable.close();
  }
});
