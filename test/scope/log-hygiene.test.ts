/**
 * Secrets stay out of the logs: after the fallback succeeds and fails, tokens are minted and
 * webhooks arrive (signed well and badly), no log line holds an installation token, the App's
 * private key, the App JWT, a runner token or the webhook secret.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs } from "../helpers/fake-github.js";
import { TEST_WEBHOOK_SECRET } from "../helpers/server.js";
import { sendWebhook, workflowJobPayload } from "../helpers/webhooks.js";
import { REPOSITORY, reportJobStart, reserve, startWithGitHub } from "./fixture.js";

const RUN = 777;
/** Every JWT (App JWT, runner token) starts with the base64 of `{"`. */
const JWT_PREFIX = "eyJ";

test("no log line contains an installation token, the App private key or the webhook secret", async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 2, runnerName: "runner-1" }));
    github.addRun(REPOSITORY, RUN + 1, runOfJobs(RUN + 1, 3));

    await reportJobStart(server, token, { repository: REPOSITORY, run_id: RUN });
    assert.equal((await reserve(server, token, { runIdHeader: RUN })).status, 201);
    const other = await server.registerRunner("runner-2", REPOSITORY);
    assert.equal((await reserve(server, other.token, { runIdHeader: RUN + 1 })).status, 403);
    github.fail("jobs", { status: 500 });
    const third = await server.registerRunner("runner-3", REPOSITORY);
    assert.equal((await reserve(server, third.token, { runIdHeader: RUN })).status, 403);
    const payload = workflowJobPayload({
      action: "in_progress",
      jobId: 1,
      runId: RUN,
      repository: REPOSITORY,
      headBranch: "x",
      runnerName: "runner-1",
    });
    await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_job", payload);
    await sendWebhook(
      server.url,
      "a wrong secret, well over thirty-two characters",
      "workflow_job",
      payload,
    );

    assert.ok(github.issuedTokens.length > 0);
    assert.ok(server.rawLogs.length > 0);
    const keyLines = github.privateKeyPem.split("\n").filter((line) => line.length > 40);
    const secrets = [
      ...github.issuedTokens,
      ...keyLines,
      TEST_WEBHOOK_SECRET,
      token,
      other.token,
      third.token,
      JWT_PREFIX,
    ];
    for (const line of server.rawLogs) {
      for (const secret of secrets)
        assert.ok(!line.includes(secret), `a log line holds a secret: ${line.slice(0, 200)}`);
    }
  } finally {
    await close();
  }
});
