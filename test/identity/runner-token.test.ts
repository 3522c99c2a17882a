/**
 * Attacks on the runner token: only HS256 with the service's secret, for a registered runner,
 * before its expiry, opens the cache. Each forged token is sent on a real v1 save and refused
 * with 401 before anything is stored.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { mintRunnerToken } from "../../src/identity/runner-token.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const REPOSITORY = "octo/app";
const ISSUER = "gha-cache";
const AUDIENCE = "gha-cache/runner";
const OTHER_SECRET = new TextEncoder().encode("another-secret-0123456789abcdef-0123456789");

let server: TestServer;
let runnerId: string;
let validToken: string;

before(async () => {
  server = await startTestServer();
  const registered = await server.registerRunner("runner-1", REPOSITORY);
  runnerId = registered.runner.id;
  validToken = registered.token;
  await server.jobEvent({
    action: "in_progress",
    jobId: 1,
    runId: 10,
    repository: REPOSITORY,
    headBranch: "main",
    runnerName: "runner-1",
  });
});

after(async () => {
  await server.close();
});

/** Tries to reserve an entry with `token`; returns the status and message. */
async function reserveWith(
  token: string,
  key: string,
): Promise<{ status: number; message: string }> {
  const response = await fetch(`${server.url}/_apis/artifactcache/caches`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ key, version: "v1", cacheSize: 10 }),
  });
  const body = (await response.json()) as { message?: string };
  return { status: response.status, message: body.message ?? "" };
}

async function entriesWithKey(key: string): Promise<number> {
  const rows = await server.server.services.db
    .selectFrom("cache_entries")
    .select("id")
    .where("key", "=", key)
    .execute();
  return rows.length;
}

function claims() {
  return new SignJWT({}).setSubject(runnerId).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt();
}

async function assertRefused(token: string, key: string, message: RegExp): Promise<void> {
  const outcome = await reserveWith(token, key);
  assert.equal(outcome.status, 401);
  assert.match(outcome.message, message);
  assert.ok(!outcome.message.includes(token), "the refusal must not echo the token");
  assert.equal(await entriesWithKey(key), 0, "a refused token stores nothing");
}

describe("runner token attacks", () => {
  test("the genuine token saves (the control case)", async () => {
    const outcome = await reserveWith(validToken, "control");
    assert.equal(outcome.status, 201);
  });

  test("an unsigned token (alg none) is refused", async () => {
    const token = new UnsecuredJWT({})
      .setSubject(runnerId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .encode();
    await assertRefused(token, "alg-none", /HS256|malformed/);
  });

  test("a token signed HS512 with the right secret is refused", async () => {
    const secret = server.server.services.secrets.tokenSecret;
    const token = await claims().setProtectedHeader({ alg: "HS512" }).sign(secret);
    await assertRefused(token, "hs512", /HS256/);
  });

  test("a token signed RS256 with an attacker's key is refused", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const token = await claims().setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    await assertRefused(token, "rs256", /HS256/);
  });

  test("a token signed with another secret is refused", async () => {
    const token = await claims().setProtectedHeader({ alg: "HS256" }).sign(OTHER_SECRET);
    await assertRefused(token, "wrong-secret", /signature/);
  });

  test("an expired token is refused", async () => {
    const secret = server.server.services.secrets.tokenSecret;
    const token = await claims()
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
      .sign(secret);
    await assertRefused(token, "expired", /expired/);
  });

  test("a token for another audience is refused", async () => {
    const secret = server.server.services.secrets.tokenSecret;
    const token = await new SignJWT({})
      .setSubject(runnerId)
      .setIssuer(ISSUER)
      .setAudience("someone-else")
      .setProtectedHeader({ alg: "HS256" })
      .sign(secret);
    await assertRefused(token, "audience", /aud/);
  });

  test("a genuine token for a runner that does not exist is refused", async () => {
    const secret = server.server.services.secrets.tokenSecret;
    const token = await mintRunnerToken(secret, {
      runnerId: "00000000-0000-4000-8000-000000000000",
    });
    await assertRefused(token, "unknown-runner", /not registered/);
  });

  test("a genuine token stops working once its runner is removed", async () => {
    const { token } = await server.registerRunner("runner-gone", REPOSITORY);
    assert.equal(await server.server.services.runners.remove("runner-gone"), 1);
    await assertRefused(token, "removed-runner", /not registered/);
  });

  test("a request with no token, or a garbage one, is refused", async () => {
    await assertRefused("not-a-jwt", "garbage", /malformed/);
    const response = await fetch(`${server.url}/_apis/artifactcache/caches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: "no-token", version: "v1" }),
    });
    assert.equal(response.status, 401);
    assert.equal(await entriesWithKey("no-token"), 0);
  });
});
