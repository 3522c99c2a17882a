/**
 * The workflow_job webhook receiver: signatures checked over the raw body before anything is
 * parsed, deliveries deduplicated, job status never moving backwards, the default branch kept
 * current, and GitHub's own example payloads accepted as they are.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { test } from "node:test";
import { sign } from "@octokit/webhooks-methods";
import { signatureMatches } from "../../src/webhook/signature.js";
import { startTestServer, TEST_WEBHOOK_SECRET, type TestServer } from "../helpers/server.js";
import {
  runWebhooksOf,
  sendWebhook,
  workflowJobPayload,
  type JobSpec,
} from "../helpers/webhooks.js";

const require = createRequire(import.meta.url);
const REPOSITORY = "octo/app";
const JOB: Omit<JobSpec, "action"> = {
  jobId: 501,
  runId: 601,
  repository: REPOSITORY,
  headBranch: "feature",
  runnerName: "runner-1",
};

async function withServer(
  run: (server: TestServer) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const server = await startTestServer(env);
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

/** Posts bytes with exactly the headers given. */
async function postRaw(server: TestServer, headers: Record<string, string>, body: string) {
  const response = await fetch(`${server.url}/webhooks/github`, { method: "POST", headers, body });
  const answer = (await response.json()) as { message?: string };
  return { status: response.status, message: answer.message ?? "" };
}

async function signedHeaders(body: string, overrides: Record<string, string | undefined> = {}) {
  const headers: Record<string, string | undefined> = {
    "content-type": "application/json",
    "x-github-event": "workflow_job",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": await sign(TEST_WEBHOOK_SECRET, body),
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(headers).filter(([, value]) => value !== undefined),
  ) as Record<string, string>;
}

async function storedJobs(server: TestServer) {
  return server.server.services.db.selectFrom("jobs").selectAll().execute();
}

async function mayWrite(server: TestServer, runnerName = "runner-1"): Promise<boolean> {
  const runner = (await server.server.services.runners.list()).find((r) => r.name === runnerName);
  assert.ok(runner);
  return (
    (await server.server.services.resolver.resolve({ runner, access: "write" })).writeScope !== null
  );
}

test("GitHub's published signature test vector verifies, and a changed byte does not", async () => {
  const secret = "It's a Secret to Everybody";
  const vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  assert.equal(await signatureMatches(secret, Buffer.from("Hello, World!"), vector), true);
  assert.equal(await signatureMatches(secret, Buffer.from("Hello, World?"), vector), false);
  assert.equal(
    await signatureMatches("another secret", Buffer.from("Hello, World!"), vector),
    false,
  );
});

for (const [name, signature] of [
  ["a wrong signature", "sha256=" + "0".repeat(64)],
  ["a missing signature", undefined],
  ["a signature over a different body", "other body"],
] as const) {
  test(`${name} is refused with 401 and nothing is recorded`, () =>
    withServer(async (server) => {
      const body = JSON.stringify(workflowJobPayload({ ...JOB, action: "in_progress" }));
      const header =
        signature === "other body" ? await sign(TEST_WEBHOOK_SECRET, body + " ") : signature;

      const answer = await postRaw(
        server,
        await signedHeaders(body, { "x-hub-signature-256": header }),
        body,
      );

      assert.equal(answer.status, 401);
      assert.deepEqual(await storedJobs(server), []);
      const deliveries = await server.server.services.db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .execute();
      assert.deepEqual(deliveries, []);
    }));
}

test("a duplicate delivery is answered and changes nothing", () =>
  withServer(async (server) => {
    await server.registerRunner("runner-1", REPOSITORY);
    const payload = workflowJobPayload({ ...JOB, action: "in_progress" });
    const delivery = randomUUID();
    for (const hook of runWebhooksOf({ ...JOB, action: "in_progress" })) {
      await server.webhook(hook.event, hook.payload);
    }

    const first = await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_job", payload, {
      delivery,
    });
    const again = await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_job", payload, {
      delivery,
    });

    assert.equal(first, 200);
    assert.equal(again, 200);
    assert.equal((await storedJobs(server)).length, 1);
    assert.equal(await mayWrite(server), true);
    assert.ok(server.logs.some((l) => l.event === "webhook_duplicate"));
  }));

test("completed arriving before in_progress leaves the job completed and the runner refused", () =>
  withServer(async (server) => {
    await server.registerRunner("runner-1", REPOSITORY);

    assert.equal(await server.jobEvent({ ...JOB, action: "completed" }), 200);
    assert.equal(await server.jobEvent({ ...JOB, action: "in_progress" }), 200);

    const [job] = await storedJobs(server);
    assert.equal(job?.status, "completed");
    assert.equal(await mayWrite(server), false);
  }));

test("queued, then in_progress, then completed: refused, allowed, refused", () =>
  withServer(async (server) => {
    await server.registerRunner("runner-1", REPOSITORY);

    await server.jobEvent({ ...JOB, action: "queued", runnerName: null });
    const whileQueued = await mayWrite(server);
    await server.jobEvent({ ...JOB, action: "in_progress" });
    const whileRunning = await mayWrite(server);
    await server.jobEvent({ ...JOB, action: "completed" });
    const afterwards = await mayWrite(server);

    assert.deepEqual([whileQueued, whileRunning, afterwards], [false, true, false]);
    assert.equal((await storedJobs(server))[0]?.status, "completed");
  }));

test("the repository's default branch follows the latest payload", () =>
  withServer(async (server) => {
    const { runner } = await server.registerRunner("runner-1", REPOSITORY);
    const resolver = server.server.services.resolver;

    await server.jobEvent({ ...JOB, action: "in_progress", defaultBranch: "main" });
    const before = await resolver.resolve({ runner, access: "read" });
    await server.jobEvent({
      ...JOB,
      jobId: 502,
      action: "queued",
      runnerName: null,
      defaultBranch: "trunk",
    });
    const after = await resolver.resolve({ runner, access: "read" });

    assert.deepEqual(before.readScopes, ["refs/heads/feature", "refs/heads/main"]);
    assert.deepEqual(after.readScopes, ["refs/heads/feature", "refs/heads/trunk"]);
  }));

test("GitHub's own example payloads are accepted as they are", () =>
  withServer(async (server) => {
    const sets = require("@octokit/webhooks-examples/api.github.com/index.json") as {
      name: string;
      examples: unknown[];
    }[];
    const examples = sets.find((set) => set.name === "workflow_job")?.examples ?? [];
    assert.ok(examples.length > 0);

    for (const example of examples) {
      assert.equal(
        await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_job", example),
        200,
      );
    }

    const jobs = new Map((await storedJobs(server)).map((job) => [Number(job.id), job]));
    // Examples without an installation are acknowledged but cannot be tied to a runner record.
    assert.equal(
      jobs.get(289782451)?.status,
      "in_progress",
      "a later queued example does not move it back",
    );
    assert.equal(jobs.get(289782451)?.runner_name, "GitHub Actions 5");
    assert.equal(jobs.get(14541957942)?.head_branch, "renovate/got-13.x");
    assert.equal(jobs.get(12877621891)?.status, "waiting");
    assert.equal(
      await server.server.services.jobs.defaultBranch("Codertocat/Hello-World"),
      "master",
    );
  }));

test("a signed delivery without X-GitHub-Event or X-GitHub-Delivery is a 400", () =>
  withServer(async (server) => {
    const body = JSON.stringify(workflowJobPayload({ ...JOB, action: "in_progress" }));

    const noEvent = await postRaw(
      server,
      await signedHeaders(body, { "x-github-event": undefined }),
      body,
    );
    const noDelivery = await postRaw(
      server,
      await signedHeaders(body, { "x-github-delivery": undefined }),
      body,
    );

    assert.equal(noEvent.status, 400);
    assert.equal(noDelivery.status, 400);
    assert.match(noEvent.message, /X-GitHub-Event/);
    assert.deepEqual(await storedJobs(server), []);
  }));

test("a signed body that is not JSON is a 400", () =>
  withServer(async (server) => {
    const body = "this is { not json";

    const answer = await postRaw(server, await signedHeaders(body), body);

    assert.equal(answer.status, 400);
    assert.match(answer.message, /not valid JSON/);
  }));

test("without a webhook secret the receiver answers 503", () =>
  withServer(
    async (server) => {
      const body = JSON.stringify(workflowJobPayload({ ...JOB, action: "in_progress" }));

      const answer = await postRaw(server, await signedHeaders(body), body);

      assert.equal(answer.status, 503);
      assert.match(answer.message, /GHA_CACHE_WEBHOOK_SECRET/);
      assert.deepEqual(await storedJobs(server), []);
    },
    { GHA_CACHE_WEBHOOK_SECRET: "" },
  ));
