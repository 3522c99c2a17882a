/**
 * Spoofed run-id hints with the GitHub App configured (fake GitHub on 127.0.0.1), and GitHub
 * runtime tokens with forged claims.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { runOfJobs } from "../helpers/fake-github.js";
import { startTestServer } from "../helpers/server.js";
import { twirp } from "../protocol/v2-client.js";
import { reportJobStart, startWithGitHub } from "../scope/fixture.js";
import { assertNoSecrets, nextId, secretsOf, v1, v1Lookup, v1Save, VERSION } from "./kit.js";

const REPO = "octo/app";

test("spoofed run-id hint naming another runner's run (header, query, report): refused, GitHub says no job here", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("spoofer", REPO);
    const RUN = 4242;
    github.addRun(
      REPO,
      RUN,
      runOfJobs(RUN, 5, { index: 2, runnerName: "victim", headBranch: "main" }),
    );
    assert.equal(
      (await v1Save(server.url, token, "h1", undefined, { "x-github-run-id": String(RUN) }))
        .reserve,
      403,
    );
    const q = await v1(server.url, token, "POST", `caches?run_id=${RUN}`, {
      key: "h2",
      version: VERSION,
      cacheSize: 1,
    });
    assert.equal(q.status, 403);
    assert.equal(
      (await reportJobStart(server, token, { repository: REPO, run_id: RUN })).status,
      202,
    );
    assert.equal((await v1Save(server.url, token, "h3")).reserve, 403);
    assertNoSecrets(server, secretsOf([token, ...github.issuedTokens], []));
  } finally {
    await close();
  }
});

test("org runner reporting another repository's run where a same-named runner has a job: only that repo, never the runner's own", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("org-r", null);
    const RUN = 5151;
    // The run of octo/other has no job on org-r.
    github.addRun("octo/other", RUN, runOfJobs(RUN, 3));
    assert.equal(
      (await reportJobStart(server, token, { repository: "octo/other", run_id: RUN })).status,
      202,
    );
    assert.equal((await v1Save(server.url, token, "x")).reserve, 403);
    assert.equal(
      (await v1Save(server.url, token, "y", undefined, { "x-github-run-id": "999999" })).reserve,
      403,
    );
  } finally {
    await close();
  }
});

test("hint of a newer run on a runner whose job is in progress: GitHub decides, no widening", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("busy", REPO);
    const jobId = nextId();
    await server.jobEvent({
      action: "in_progress",
      jobId,
      runId: 100,
      repository: REPO,
      headBranch: "feature",
      runnerName: "busy",
    });
    const victimRun = 200;
    github.addRun(
      REPO,
      victimRun,
      runOfJobs(victimRun, 2, { index: 0, runnerName: "someone-else", headBranch: "main" }),
    );
    const save = await v1Save(server.url, token, "busy-key", undefined, {
      "x-github-run-id": String(victimRun),
    });
    assert.notEqual(save.reserve, 201, "a spoofed newer run must not turn feature into main");
  } finally {
    await close();
  }
});

async function jwksServer() {
  const pair = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const server: Server = createServer((_q, r) =>
    r.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    pair,
    jwk,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test("GitHub-token identity with forged claims: none, HS256 keyed with the public JWK, foreign key, wrong issuer, expired, our issuer with RS256: all 401", async () => {
  const jwks = await jwksServer();
  const server = await startTestServer({
    GHA_CACHE_GITHUB_TOKEN_JWKS_URL: jwks.url,
    GHA_CACHE_GITHUB_TOKEN_ISSUER: "https://issuer.test",
    GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM: "repository",
    GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM: "run_id",
  });
  const forged: string[] = [];
  try {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ac: JSON.stringify([{ Scope: "refs/heads/main", Permission: 3 }]),
      repository: "octo/victim",
      run_id: "77",
    };
    const base = () =>
      new SignJWT(claims)
        .setIssuer("https://issuer.test")
        .setIssuedAt(now)
        .setExpirationTime(now + 3600);
    const { privateKey: foreign } = await generateKeyPair("RS256");
    forged.push(
      new UnsecuredJWT(claims)
        .setIssuer("https://issuer.test")
        .setExpirationTime(now + 3600)
        .encode(),
    );
    forged.push(
      await base()
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .sign(new TextEncoder().encode(JSON.stringify(jwks.jwk))),
    );
    forged.push(
      await base()
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .sign(new TextEncoder().encode(String(jwks.jwk.n))),
    );
    forged.push(await base().setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(foreign));
    forged.push(
      await new SignJWT(claims)
        .setIssuer("https://evil.test")
        .setExpirationTime(now + 3600)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(jwks.pair.privateKey),
    );
    forged.push(
      await new SignJWT(claims)
        .setIssuer("https://issuer.test")
        .setExpirationTime(now - 120)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(jwks.pair.privateKey),
    );
    forged.push(
      await new SignJWT(claims)
        .setIssuer("https://issuer.test")
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(jwks.pair.privateKey),
    ); // no exp
    forged.push(
      await new SignJWT({ ...claims, sub: "x", aud: "gha-cache/runner" })
        .setIssuer("gha-cache")
        .setExpirationTime(now + 3600)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(jwks.pair.privateKey),
    );
    for (const [i, t] of forged.entries()) {
      const r = await twirp(server.url, t, "CreateCacheEntry", { key: "gt", version: VERSION });
      assert.equal(r.status, 401, `forged #${i}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    // A genuine token whose run the webhook records in another repository: refused.
    const jobId = nextId();
    await server.jobEvent({
      action: "in_progress",
      jobId,
      runId: 88,
      repository: "octo/real",
      headBranch: "main",
      runnerName: "r",
    });
    const genuine = await new SignJWT({ ...claims, run_id: "88" })
      .setIssuer("https://issuer.test")
      .setExpirationTime(now + 3600)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(jwks.pair.privateKey);
    forged.push(genuine);
    const r = await twirp(server.url, genuine, "CreateCacheEntry", { key: "gt", version: VERSION });
    assert.equal(r.json.ok ?? false, false, JSON.stringify(r.json));
    // A genuine token must never be accepted on the v1 path credential.
    assert.equal((await v1Lookup(`${server.url}/r/${genuine}`, undefined, ["gt"])).status, 401);
    assertNoSecrets(server, secretsOf(forged, []));
  } finally {
    await server.close();
    await jwks.close();
  }
});
