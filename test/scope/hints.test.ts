/** Which hint the resolver asks GitHub about, and when a hint points past the recorded job. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Runner } from "../../src/identity/runners.js";
import { hintIsNewer, pickHint, type RunHintChoice } from "../../src/scope/hints.js";
import type { JobRecord } from "../../src/scope/job-store.js";

const REPOSITORY = "octo/app";
const COMPLETED_AT = 1_700_000_000_000;

function runner(overrides: Partial<Runner> = {}): Runner {
  return {
    id: "r1",
    name: "runner-1",
    repository: REPOSITORY,
    installationId: 1,
    createdAt: 0,
    hint: null,
    ...overrides,
  };
}

function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 1,
    run_id: 100,
    run_attempt: 1,
    repository: REPOSITORY,
    installation_id: 1,
    runner_name: "runner-1",
    status: "completed",
    status_rank: 3,
    head_branch: "main",
    head_sha: null,
    workflow_name: null,
    started_at: COMPLETED_AT - 1000,
    completed_at: COMPLETED_AT,
    updated_at: COMPLETED_AT,
    source: "webhook",
    ...overrides,
  };
}

function hint(overrides: Partial<RunHintChoice> = {}): RunHintChoice {
  return {
    source: "report",
    repository: REPOSITORY,
    runId: 100,
    runAttempt: 1,
    reportedAt: null,
    ...overrides,
  };
}

test("the call's own run id comes before the job-start report", () => {
  const pick = pickHint({
    runner: runner({ hint: { repository: REPOSITORY, runId: 5, runAttempt: 1, at: 1 } }),
    access: "read",
    runIdHint: 7,
  });

  assert.equal(pick.hint?.runId, 7);
  assert.equal(pick.hint?.source, "request");
});

test("an organisation runner's run id takes its repository from the job-start report", () => {
  const pick = pickHint({
    runner: runner({
      repository: null,
      hint: { repository: "octo/other", runId: 7, runAttempt: 3, at: 1 },
    }),
    access: "read",
    runIdHint: 7,
  });

  assert.deepEqual(pick.hint, {
    source: "request",
    repository: "octo/other",
    runId: 7,
    runAttempt: 3,
    reportedAt: 1,
  });
});

test("an organisation runner's run id without any report cannot be placed in a repository", () => {
  const pick = pickHint({ runner: runner({ repository: null }), access: "read", runIdHint: 7 });

  assert.equal(pick.hint, null);
  assert.match(
    pick.hint === null ? pick.reason : "",
    /organisation runner must send a job-start report/,
  );
});

test("a later run, or a later attempt, is newer than the recorded job; an earlier one is not", () => {
  assert.equal(hintIsNewer(hint({ runId: 101 }), job()), true);
  assert.equal(hintIsNewer(hint({ runId: 99 }), job()), false);
  assert.equal(hintIsNewer(hint({ runAttempt: 2 }), job()), true);
  assert.equal(hintIsNewer(hint({ runAttempt: 1 }), job()), false);
  assert.equal(hintIsNewer(hint({ runAttempt: null }), job()), false);
});

test("a report made after the recorded job completed points to a new job in the same run", () => {
  assert.equal(hintIsNewer(hint({ reportedAt: COMPLETED_AT + 1 }), job()), true);
  assert.equal(hintIsNewer(hint({ reportedAt: COMPLETED_AT - 1 }), job()), false);
  assert.equal(
    hintIsNewer(hint({ reportedAt: COMPLETED_AT + 1 }), job({ status: "in_progress" })),
    false,
  );
});
