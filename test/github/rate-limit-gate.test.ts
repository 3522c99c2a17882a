/** The per-installation rate-limit gate on its own: who waits, who fails at once, who goes first. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GitHubApiError } from "../../src/github/errors.js";
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  RateLimitGate,
  rateLimitOf,
} from "../../src/github/rate-limit.js";

const INSTALLATION = 7;
const BLOCK_MS = 50;
const GENEROUS_BUDGET_MS = 10_000;
const never = new AbortController().signal;

async function refusal(promise: Promise<unknown>): Promise<GitHubApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GitHubApiError);
  return error;
}

test("when a block ends one request goes first, and the others wait for its answer", async () => {
  const gate = new RateLimitGate();
  const now = Date.now();
  gate.block(INSTALLATION, { untilMs: now + BLOCK_MS, stated: true }, now);
  const released: ((ok: boolean) => void)[] = [];
  const turns = Array.from({ length: 3 }, () =>
    gate
      .turn(INSTALLATION, now + GENEROUS_BUDGET_MS, never)
      .then((answered) => released.push(answered)),
  );

  await Promise.race(turns);
  await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
  assert.equal(released.length, 1, "only the first request is out");
  released[0]!(true);
  await Promise.all(turns);

  assert.equal(released.length, 3);
  assert.equal(gate.blocked(INSTALLATION, Date.now()), undefined);
});

test("a block that ends after the caller's deadline, or names no end, is refused without waiting", async () => {
  const gate = new RateLimitGate();
  const now = Date.now();
  gate.block(INSTALLATION, { untilMs: now + GENEROUS_BUDGET_MS, stated: true }, now);
  gate.block(INSTALLATION + 1, { untilMs: now + BLOCK_MS, stated: false }, now);

  const late = await refusal(gate.turn(INSTALLATION, now + BLOCK_MS, never));
  const unstated = await refusal(gate.turn(INSTALLATION + 1, now + GENEROUS_BUDGET_MS, never));
  const noBudget = await refusal(gate.turn(INSTALLATION, undefined, never));

  assert.deepEqual(
    [late.kind, unstated.kind, noBudget.kind],
    ["rate_limited", "rate_limited", "rate_limited"],
  );
  assert.equal(late.retryAt, now + GENEROUS_BUDGET_MS);
});

test("limits that name no end, one after another, double the pause", () => {
  const gate = new RateLimitGate();
  const now = 1_000_000;
  const unstated = { untilMs: now + DEFAULT_RATE_LIMIT_WAIT_MS, stated: false };

  const first = gate.block(INSTALLATION, unstated, now);
  const second = gate.block(INSTALLATION, unstated, now);

  assert.equal(first, now + DEFAULT_RATE_LIMIT_WAIT_MS);
  assert.equal(second, now + 2 * DEFAULT_RATE_LIMIT_WAIT_MS);
});

test("which answers are limits, and whether GitHub stated their end", () => {
  const now = 1_000_000;
  const resetSeconds = 2000;

  assert.deepEqual(rateLimitOf(429, { "retry-after": "3" }, "", now), {
    untilMs: now + 3000,
    stated: true,
  });
  assert.deepEqual(
    rateLimitOf(
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetSeconds) },
      "",
      now,
    ),
    { untilMs: resetSeconds * 1000, stated: true },
  );
  assert.deepEqual(rateLimitOf(403, {}, "You have exceeded a secondary rate limit", now), {
    untilMs: now + DEFAULT_RATE_LIMIT_WAIT_MS,
    stated: false,
  });
  assert.equal(rateLimitOf(403, {}, "Resource not accessible by integration", now), undefined);
});
