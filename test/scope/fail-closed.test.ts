/**
 * Every way the API fallback can come back empty-handed fails closed: the call may not write,
 * and a warn line says which runner, repository and run, and why.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs } from "../helpers/fake-github.js";
import type { TestServer } from "../helpers/server.js";
import {
  REPOSITORY,
  reserve,
  startWithGitHub,
  type Fixture,
  type FixtureOptions,
} from "./fixture.js";

const RUN = 9001;
const SECONDS_AHEAD = 120;

function assertRefusalLogged(
  server: TestServer,
  runner: string,
  run: number | null,
  reason: RegExp,
): void {
  const line = server.logs.find((l) => l.event === "scope_unresolved" && l.level === 40);
  assert.ok(line, "a warn line for the refusal");
  assert.equal(line.runner, runner);
  assert.equal(line.repository, REPOSITORY);
  assert.equal(line.run, run);
  assert.match(String(line.reason), reason);
}

/** One runner, one run on the fake; `arrange` shapes GitHub's answer before the call. */
async function refusedCall(
  options: FixtureOptions,
  arrange: (fixture: Fixture) => void,
  run: number | null = RUN,
) {
  const fixture = await startWithGitHub(options);
  const { token } = await fixture.server.registerRunner("runner-1", REPOSITORY);
  arrange(fixture);
  const startedAt = Date.now();
  const call = await reserve(fixture.server, token, run === null ? {} : { runIdHeader: run });
  return { ...fixture, token, call, elapsedMs: Date.now() - startedAt };
}

test("GitHub answering 500 fails closed with the API error", async () => {
  const { server, github, call, close } = await refusedCall({}, ({ github }) => {
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
    github.fail("jobs", { status: 500 });
  });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /GitHub API error \(500\)/);
    assert.equal(github.count("jobs"), 1, "no retry");
    assertRefusalLogged(server, "runner-1", RUN, /GitHub API error \(500\)/);
  } finally {
    await close();
  }
});

test("a 429 with retry-after fails closed at once and no call goes to GitHub until then", async () => {
  const { server, github, call, elapsedMs, close } = await refusedCall(
    { budgetMs: 5000 },
    ({ github }) => {
      github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
      github.addRun(
        REPOSITORY,
        RUN + 1,
        runOfJobs(RUN + 1, 3, { index: 0, runnerName: "runner-2" }),
      );
      github.fail("jobs", { status: 429, headers: { "retry-after": String(SECONDS_AHEAD) } });
    },
  );
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /rate limited \(429\)/);
    assert.ok(elapsedMs < 5000, `answered in ${elapsedMs} ms, within the budget`);
    // Another runner of the same installation, another run: still no call to GitHub.
    const other = await server.registerRunner("runner-2", REPOSITORY);
    const second = await reserve(server, other.token, { runIdHeader: RUN + 1 });
    assert.equal(second.status, 403);
    assert.match(second.message, /rate limited/);
    assert.equal(github.count("jobs"), 1);
    assertRefusalLogged(server, "runner-1", RUN, /rate limited/);
  } finally {
    await close();
  }
});

test("a 403 with x-ratelimit-remaining 0 is obeyed until x-ratelimit-reset", async () => {
  const resetAt = Math.floor(Date.now() / 1000) + SECONDS_AHEAD;
  const { server, github, call, close } = await refusedCall({}, ({ github }) => {
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
    github.fail("jobs", {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetAt) },
    });
  });
  try {
    assert.equal(call.status, 403);
    assert.match(
      call.message,
      new RegExp(`rate limited \\(403\\) until ${new Date(resetAt * 1000).toISOString()}`),
    );
    github.clearFaults();
    const other = await server.registerRunner("runner-2", REPOSITORY);
    await reserve(server, other.token, { runIdHeader: RUN });
    assert.equal(github.count("jobs"), 1);
    assertRefusalLogged(server, "runner-1", RUN, /rate limited/);
  } finally {
    await close();
  }
});

test("a run with no job on this runner fails closed", async () => {
  const { server, call, close } = await refusedCall({}, ({ github }) => {
    github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 120));
  });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /run 9001 has no job on this runner \(runner-1\)/);
    assertRefusalLogged(server, "runner-1", RUN, /has no job on this runner/);
  } finally {
    await close();
  }
});

test("the runner's job in the run being completed fails closed", async () => {
  const { server, call, close } = await refusedCall({}, ({ github }) => {
    github.addRun(
      REPOSITORY,
      RUN,
      runOfJobs(RUN, 4, { index: 3, runnerName: "runner-1", status: "completed" }),
    );
  });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /job not in progress \(completed\)/);
    assertRefusalLogged(server, "runner-1", RUN, /job not in progress \(completed\)/);
  } finally {
    await close();
  }
});

test("GitHub slower than the budget fails closed when the budget runs out", async () => {
  const BUDGET_MS = 400;
  const SLACK_MS = 600;
  const { server, call, elapsedMs, close } = await refusedCall(
    { budgetMs: BUDGET_MS },
    ({ github }) => {
      github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
      github.fail("jobs", { delayMs: 5000 });
    },
  );
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /budget exceeded \(400 ms\)/);
    assert.ok(
      elapsedMs >= BUDGET_MS && elapsedMs < BUDGET_MS + SLACK_MS,
      `answered after ${elapsedMs} ms`,
    );
    assertRefusalLogged(server, "runner-1", RUN, /budget exceeded/);
  } finally {
    await close();
  }
});

test("without a GitHub App the fallback fails closed", async () => {
  const { server, github, call, close } = await refusedCall({ withoutApp: true }, () => undefined);
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /GitHub App not configured/);
    assert.equal(github.calls.length, 0);
    assertRefusalLogged(server, "runner-1", RUN, /GitHub App not configured/);
  } finally {
    await close();
  }
});

test("without any run id hint, a search finding no run in progress fails closed", async () => {
  const { server, github, call, close } = await refusedCall({}, () => undefined, null);
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /no run id hint/);
    assert.equal(github.count("runs"), 1);
    assert.equal(github.count("jobs"), 0);
    assertRefusalLogged(server, "runner-1", null, /no run id hint.*has no run in progress/);
  } finally {
    await close();
  }
});

test("a failure is remembered: a burst of calls within the window makes no new API call", async () => {
  const BURST = 20;
  const { server, github, token, close } = await refusedCall(
    { negativeCacheMs: 60_000 },
    ({ github }) => {
      github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
      github.fail("jobs", { status: 500, times: 1 });
    },
  );
  try {
    const burst = await Promise.all(
      Array.from({ length: BURST }, () => reserve(server, token, { runIdHeader: RUN })),
    );
    assert.ok(burst.every((c) => c.status === 403 && /GitHub API error \(500\)/.test(c.message)));
    assert.equal(github.count("jobs"), 1);
  } finally {
    await close();
  }
});
