/**
 * Attacks on the webhook receiver: forged and mismatched signatures, replays, another
 * installation naming the same runner, oversized, malformed and non-UTF-8 bodies.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { sign } from "@octokit/webhooks-methods";
import { startTestServer, TEST_WEBHOOK_SECRET, type TestServer } from "../helpers/server.js";
import { workflowJobPayload } from "../helpers/webhooks.js";
import {
  assertNoSecrets,
  errorLines,
  http,
  nextId,
  rawSocket,
  secretsOf,
  v1Lookup,
  v1Save,
} from "./kit.js";

let server: TestServer;
const tokens: string[] = [];
const REPO = "octo/hooked";

async function post(body: Buffer | string, headers: Record<string, string>) {
  return http(`${server.url}/webhooks/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "workflow_job",
      "x-github-delivery": randomUUID(),
      ...headers,
    },
    body: body as unknown as BodyInit,
  });
}

before(async () => {
  server = await startTestServer();
});
after(async () => {
  assertNoSecrets(server, secretsOf(tokens, []));
  await server.close();
});

function jobPayload(
  runner: string,
  action: "in_progress" | "completed" = "in_progress",
  jobId = nextId(),
  installationId = 1,
) {
  return workflowJobPayload({
    action,
    jobId,
    runId: jobId * 10,
    repository: REPO,
    headBranch: "main",
    runnerName: runner,
    installationId,
  });
}

test("webhook with a bad signature is 401 and records nothing", async () => {
  const { token } = await server.registerRunner("sig-bad", REPO);
  tokens.push(token);
  const body = JSON.stringify(jobPayload("sig-bad"));
  for (const signature of [
    undefined,
    "",
    "sha256=",
    "sha256=" + "0".repeat(64),
    "sha1=abc",
    await sign("other-secret", body),
    (await sign(TEST_WEBHOOK_SECRET, body)).toUpperCase(),
  ]) {
    const r = await post(body, signature === undefined ? {} : { "x-hub-signature-256": signature });
    assert.equal(r.status, 401, `${signature}`);
  }
  assert.equal((await v1Lookup(server.url, token, ["k"])).status, 204);
  assert.equal(
    await server.server.services.jobs.currentJob(
      (await server.server.services.runners.get(
        (await server.server.services.runners.list()).find((x) => x.name === "sig-bad")!.id,
      ))!,
    ),
    undefined,
  );
});

test("signature for a different body (or body with appended bytes) is 401", async () => {
  const good = JSON.stringify(jobPayload("sig-other"));
  const sig = await sign(TEST_WEBHOOK_SECRET, good);
  const altered = good.replace('"in_progress"', '"completed"');
  assert.equal((await post(altered, { "x-hub-signature-256": sig })).status, 401);
  assert.equal((await post(good + " ", { "x-hub-signature-256": sig })).status, 401);
  assert.equal((await post(good + "\u0000", { "x-hub-signature-256": sig })).status, 401);
});

test("replayed delivery id is ignored; replaying in_progress after completed does not revive the lease", async () => {
  const { token } = await server.registerRunner("replay", REPO);
  tokens.push(token);
  const jobId = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId,
    runId: jobId * 10,
    repository: REPO,
    headBranch: "main",
    runnerName: "replay",
  });
  const inProgress = JSON.stringify(jobPayload("replay", "in_progress", jobId));
  const sigIn = await sign(TEST_WEBHOOK_SECRET, inProgress);
  const completed = JSON.stringify(jobPayload("replay", "completed", jobId));
  const sigDone = await sign(TEST_WEBHOOK_SECRET, completed);
  const deliveryDone = randomUUID();
  assert.equal(
    (await post(completed, { "x-hub-signature-256": sigDone, "x-github-delivery": deliveryDone }))
      .status,
    200,
  );
  // Attacker replays a captured, validly signed in_progress body under a fresh delivery id.
  assert.equal(
    (await post(inProgress, { "x-hub-signature-256": sigIn, "x-github-delivery": randomUUID() }))
      .status,
    200,
  );
  assert.equal((await v1Save(server.url, token, "revived")).reserve, 403);
  // Same delivery id twice.
  const dup = await post(completed, {
    "x-hub-signature-256": sigDone,
    "x-github-delivery": deliveryDone,
  });
  assert.equal(dup.status, 200);
  assert.match(dup.text, /duplicate/);
});

test("valid webhook of another installation naming the same runner name does not move this runner", async () => {
  const { token } = await server.registerRunner("same-name", REPO, 1);
  tokens.push(token);
  // Installation 2 (another org that installed the same App) reports a job on its 'same-name'.
  const jobId = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId,
    runId: jobId * 10,
    repository: "evilorg/repo",
    headBranch: "main",
    runnerName: "same-name",
    installationId: 2,
  });
  assert.equal((await v1Save(server.url, token, "x")).reserve, 403);
  // Installation 2 reporting the victim repository name itself (impossible on GitHub, but the
  // payload is only signed with the App-wide secret): must not grant installation 1's runner.
  const j2 = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId: j2,
    runId: j2 * 10,
    repository: REPO,
    headBranch: "main",
    runnerName: "same-name",
    installationId: 2,
  });
  assert.equal((await v1Save(server.url, token, "y")).reserve, 403);
});

test("huge webhook body (>25 MB) is refused with 413 before it is parsed; the server stays up", async () => {
  const body = Buffer.alloc(26 * 1024 * 1024, 0x20);
  const r = await post(body, { "x-hub-signature-256": "sha256=" + "0".repeat(64) });
  assert.equal(r.status, 413);
  assert.equal((await http(`${server.url}/healthz`)).status < 500, true);
});

test("validly signed malformed JSON, JSON scalar, deeply nested JSON: 400, never 500", async () => {
  for (const body of [
    "{not json",
    "42",
    "null",
    "[]",
    "[".repeat(200_000) + "]".repeat(200_000),
    '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000),
  ]) {
    const r = await post(body, { "x-hub-signature-256": await sign(TEST_WEBHOOK_SECRET, body) });
    assert.ok(
      r.status === 400 || r.status === 200,
      `${body.slice(0, 10)} -> ${r.status} ${r.text}`,
    );
  }
  // Wrong field types in a signed, well-formed payload.
  const weird = {
    ...jobPayload("weird"),
    workflow_job: { id: "1", run_id: [], runner_name: {} },
    installation: { id: "1" },
  };
  const s = JSON.stringify(weird);
  const r = await post(s, { "x-hub-signature-256": await sign(TEST_WEBHOOK_SECRET, s) });
  assert.equal(r.status, 200);
  const huge = {
    ...jobPayload("huge"),
    workflow_job: { ...(jobPayload("huge").workflow_job as object), id: 1e300, run_id: -5 },
  };
  const hs = JSON.stringify(huge);
  const hr = await post(hs, { "x-hub-signature-256": await sign(TEST_WEBHOOK_SECRET, hs) });
  assert.ok(hr.status < 500, `${hr.status} ${hr.text}`);
  assert.equal(errorLines(server).length, 0, JSON.stringify(errorLines(server)).slice(0, 2000));
});

test("non-UTF-8 bytes signed over the raw bytes: refused, never 500", async () => {
  const prefix = Buffer.from('{"action":"in_progress","x":"');
  const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const { createHmac } = await import("node:crypto");
  const sig = "sha256=" + createHmac("sha256", TEST_WEBHOOK_SECRET).update(body).digest("hex");
  const r = await post(body, { "x-hub-signature-256": sig });
  assert.ok(r.status === 401 || r.status === 400, String(r.status));
});

test("webhook without event or delivery header but valid signature: 400", async () => {
  const body = JSON.stringify(jobPayload("nohdr"));
  const sig = await sign(TEST_WEBHOOK_SECRET, body);
  const r = await http(`${server.url}/webhooks/github`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": sig },
    body,
  });
  assert.equal(r.status, 400);
});

test("webhook body sent slowly with a bounded wait does not hang other requests", async () => {
  const req = `POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`;
  const pending = rawSocket(server.url, req, 1500);
  const health = await http(`${server.url}/healthz`);
  assert.ok(health.status < 500);
  await pending;
});
