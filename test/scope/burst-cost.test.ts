/**
 * What a burst costs at GitHub: 50 concurrent cache calls from one runner whose webhook never
 * came share one resolution, so establishing the job takes at most two API calls (the
 * installation token and one page of jobs) and each of the run's facts is asked once. Counts,
 * not timings: the calls join a resolution in flight or find its stored answer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs, type FakeGitHub } from "../helpers/fake-github.js";
import { FAKE_HEAD_SHA } from "../helpers/fake-github-runs.js";
import { pushPayload, workflowRunPayload } from "../helpers/run-webhooks.js";
import { TEST_WEBHOOK_SECRET } from "../helpers/server.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { logsOf, lookup, REPOSITORY, startWithGitHub } from "./fixture.js";

const CONCURRENT_CALLS = 50;
/** The installation token and the one page of the run's jobs. */
const JOB_CALLS_BOUND = 2;
/** With no hint, the run list page comes on top. */
const SEARCH_CALLS_BOUND = JOB_CALLS_BOUND + 1;
const RUN = 9001;
const RUN_JOBS = 20;

/** The questions about the run, each asked once whatever the burst: ref kind asks branch and tag. */
function assertFactsAskedOnce(github: FakeGitHub): void {
  assert.ok(github.count("repository") <= 1);
  assert.ok(github.count("run_attempt") <= 1);
  assert.ok(github.count("git_ref") <= 2);
}

for (const withHint of [true, false]) {
  const how = withHint ? "with a run id header" : "with no hint at all";
  test(`${CONCURRENT_CALLS} concurrent lookups ${how} and the webhook withheld cost one resolution`, async () => {
    const { server, github, close } = await startWithGitHub();
    try {
      const { token } = await server.registerRunner("runner-1", REPOSITORY);
      github.addRun(
        REPOSITORY,
        RUN,
        runOfJobs(RUN, RUN_JOBS, { index: RUN_JOBS - 1, runnerName: "runner-1" }),
      );

      const burst = Array.from({ length: CONCURRENT_CALLS }, () =>
        lookup(server, token, withHint ? RUN : undefined),
      );
      const statuses = await Promise.all(burst);

      assert.deepEqual(new Set(statuses), new Set([204]), "a miss, as nothing was saved");
      const decisions = logsOf(server, "scope_decision");
      assert.equal(decisions.filter((line) => line.allowed === true).length, CONCURRENT_CALLS);
      const jobCalls = github.count("access_tokens") + github.count("jobs") + github.count("runs");
      const bound = withHint ? JOB_CALLS_BOUND : SEARCH_CALLS_BOUND;
      assert.ok(jobCalls <= bound, `${jobCalls} calls to establish the job`);
      assertFactsAskedOnce(github);
    } finally {
      await close();
    }
  });
}

test(`${CONCURRENT_CALLS} concurrent lookups with only the workflow_job webhook withheld cost at most ${JOB_CALLS_BOUND} API calls in all`, async () => {
  const { server, github, close } = await startWithGitHub();
  try {
    const { token } = await server.registerRunner("runner-1", REPOSITORY);
    github.addRun(
      REPOSITORY,
      RUN,
      runOfJobs(RUN, RUN_JOBS, { index: RUN_JOBS - 1, runnerName: "runner-1" }),
    );
    // The run's own events came: its trigger, and the push of its branch at its commit.
    const job = {
      runId: RUN,
      runAttempt: 1,
      repository: REPOSITORY,
      headBranch: "feature",
      // The commit the fake GitHub's jobs name.
      headSha: FAKE_HEAD_SHA,
      installationId: 1,
      jobAction: "in_progress",
    };
    assert.equal(
      await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_run", workflowRunPayload(job)),
      200,
    );
    const push = pushPayload(job, "refs/heads/feature");
    assert.equal(await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "push", push), 200);

    const burst = Array.from({ length: CONCURRENT_CALLS }, () => lookup(server, token, RUN));
    const statuses = await Promise.all(burst);

    assert.deepEqual(new Set(statuses), new Set([204]), "a miss, as nothing was saved");
    const decisions = logsOf(server, "scope_decision");
    const allowed = decisions.filter(
      (line) => line.allowed === true && line.writeScope === "refs/heads/feature",
    );
    assert.equal(allowed.length, CONCURRENT_CALLS, String(decisions[0]?.reason));
    assert.ok(
      github.calls.length <= JOB_CALLS_BOUND,
      `${github.calls.length} GitHub API calls: ${github.calls.map((call) => call.route).join(", ")}`,
    );
  } finally {
    await close();
  }
});
