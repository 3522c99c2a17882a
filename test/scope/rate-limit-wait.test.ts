/**
 * GitHub's rate limits inside a cache call's time budget: a limit whose stated end fits the
 * budget is waited out and the request tried once more; one that does not, or that states no
 * end, fails closed at once. Driven through the v1 cache API against a fake GitHub.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runOfJobs } from "../helpers/fake-github.js";
import { eventually, REPOSITORY, reserve, startWithGitHub } from "./fixture.js";

const RUN = 9001;
const BUDGET_MS = 10_000;
const MS_PER_SECOND = 1000;
/** A wait GitHub states that fits the budget, and one that does not. */
const SHORT_WAIT_SECONDS = 1;
const LONG_WAIT_SECONDS = 30;

async function oneRunner(fault: { status: number; headers?: Record<string, string> }) {
  const fixture = await startWithGitHub({ budgetMs: BUDGET_MS });
  const { token } = await fixture.server.registerRunner("runner-1", REPOSITORY);
  fixture.github.addRun(REPOSITORY, RUN, runOfJobs(RUN, 3, { index: 0, runnerName: "runner-1" }));
  fixture.github.fail("jobs", { ...fault, times: 1 });
  const startedAt = Date.now();
  const call = await reserve(fixture.server, token, { runIdHeader: RUN });
  return { ...fixture, call, elapsedMs: Date.now() - startedAt };
}

function jobsCalls(github: { calls: { route: string; at: number; status: number }[] }) {
  return github.calls.filter((c) => c.route === "jobs");
}

test("a 429 with retry-after inside the budget is waited out: resolved after one retry", async () => {
  const headers = { "retry-after": String(SHORT_WAIT_SECONDS) };
  const { github, call, close } = await oneRunner({ status: 429, headers });
  try {
    assert.equal(call.status, 201, call.message);
    const [limited, retried] = jobsCalls(github);
    assert.equal(jobsCalls(github).length, 2);
    assert.equal(limited?.status, 429);
    assert.ok(
      retried!.at - limited!.at >= SHORT_WAIT_SECONDS * MS_PER_SECOND,
      "the retry waited for retry-after",
    );
  } finally {
    await close();
  }
});

test("a 429 with retry-after beyond the budget fails closed at once, without a second call", async () => {
  const headers = { "retry-after": String(LONG_WAIT_SECONDS) };
  const { github, call, elapsedMs, close } = await oneRunner({ status: 429, headers });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /rate limited \(429\)/);
    assert.equal(jobsCalls(github).length, 1);
    assert.ok(
      elapsedMs < BUDGET_MS,
      `answered after ${elapsedMs} ms, not at the end of the budget`,
    );
  } finally {
    await close();
  }
});

test("a 403 with no requests remaining and a reset inside the budget is waited out", async () => {
  const resetSeconds = Math.ceil(Date.now() / MS_PER_SECOND) + SHORT_WAIT_SECONDS;
  const headers = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetSeconds) };
  const { github, call, close } = await oneRunner({ status: 403, headers });
  try {
    assert.equal(call.status, 201, call.message);
    assert.equal(jobsCalls(github).length, 2);
    assert.ok(
      jobsCalls(github)[1]!.at >= resetSeconds * MS_PER_SECOND,
      "the retry waited for the reset",
    );
  } finally {
    await close();
  }
});

test("a 403 with no requests remaining and a reset beyond the budget fails closed at once", async () => {
  const resetSeconds = Math.ceil(Date.now() / MS_PER_SECOND) + LONG_WAIT_SECONDS;
  const headers = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetSeconds) };
  const { github, call, close } = await oneRunner({ status: 403, headers });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /rate limited \(403\) until/);
    assert.equal(jobsCalls(github).length, 1);
  } finally {
    await close();
  }
});

test("a secondary limit without headers backs off: no retry within the call, refused", async () => {
  const { github, call, close } = await oneRunner({ status: 403 });
  try {
    assert.equal(call.status, 403);
    assert.match(call.message, /rate limited \(403\)/);
    assert.equal(jobsCalls(github).length, 1);
  } finally {
    await close();
  }
});

test("callers of one installation share a block: none calls GitHub before it ends", async () => {
  const OTHER_RUNNERS = 3;
  const fixture = await startWithGitHub({ budgetMs: BUDGET_MS });
  const { server, github, close } = fixture;
  try {
    const names = [
      "runner-0",
      ...Array.from({ length: OTHER_RUNNERS }, (_unused, i) => `runner-${i + 1}`),
    ];
    const tokens: string[] = [];
    for (const [index, name] of names.entries()) {
      tokens.push((await server.registerRunner(name, REPOSITORY)).token);
      github.addRun(
        REPOSITORY,
        RUN + index,
        runOfJobs(RUN + index, 2, { index: 0, runnerName: name }),
      );
    }
    github.fail("jobs", {
      status: 429,
      headers: { "retry-after": String(SHORT_WAIT_SECONDS) },
      times: 1,
    });

    const first = reserve(server, tokens[0]!, { runIdHeader: RUN });
    await eventually(() => jobsCalls(github).some((c) => c.status === 429));
    const others = tokens
      .slice(1)
      .map((token, i) => reserve(server, token, { runIdHeader: RUN + i + 1 }));
    const calls = await Promise.all([first, ...others]);

    assert.deepEqual(
      calls.map((c) => c.status),
      names.map(() => 201),
    );
    const [limited, ...after] = jobsCalls(github);
    assert.equal(
      after.length,
      names.length,
      "one call per runner after the block, no second refusal",
    );
    assert.ok(after.every((c) => c.at - limited!.at >= SHORT_WAIT_SECONDS * MS_PER_SECOND));
  } finally {
    await close();
  }
});
