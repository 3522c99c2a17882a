/** The fallback's cost controls on their own: single flight, remembered failures, time budget. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BudgetExceeded, withBudget } from "../../src/scope/budget.js";
import { NegativeCache } from "../../src/scope/negative-cache.js";
import { SingleFlight } from "../../src/scope/single-flight.js";

test("concurrent runs of one key share one piece of work; a later run starts afresh", async () => {
  const flights = new SingleFlight<string, number>();
  let started = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const work = async () => {
    started += 1;
    await gate;
    return started;
  };

  const joined = [
    flights.run("runner", work),
    flights.run("runner", work),
    flights.run("runner", work),
  ];
  const other = flights.run("other runner", async () => 99);
  release();

  assert.deepEqual(await Promise.all(joined), [1, 1, 1]);
  assert.equal(await other, 99);
  assert.equal(flights.size, 0);
  assert.equal(await flights.run("runner", work), 2);
});

test("a shared failure reaches every caller, and the key is free again afterwards", async () => {
  const flights = new SingleFlight<string, number>();
  const failing = async (): Promise<number> => {
    throw new Error("GitHub down");
  };

  const results = await Promise.allSettled([flights.run("k", failing), flights.run("k", failing)]);

  assert.ok(results.every((r) => r.status === "rejected"));
  assert.equal(await flights.run("k", async () => 1), 1);
});

test("a remembered failure is forgotten when its window has passed", () => {
  const WINDOW_MS = 5000;
  let now = 1_000_000;
  const failures = new NegativeCache<string>(WINDOW_MS, () => now);

  failures.set("runner|run", "GitHub API error (500)");
  now += WINDOW_MS - 1;
  const within = failures.get("runner|run");
  now += 1;
  const after = failures.get("runner|run");

  assert.equal(within, "GitHub API error (500)");
  assert.equal(after, undefined);
});

test("a zero window remembers nothing", () => {
  const failures = new NegativeCache<string>(0);

  failures.set("k", "reason");

  assert.equal(failures.get("k"), undefined);
});

test("work that outlasts the budget is aborted and the caller is answered at the deadline", async () => {
  const BUDGET_MS = 100;
  let aborted = false;
  const startedAt = Date.now();

  const outcome = await withBudget(BUDGET_MS, (signal) => {
    signal.addEventListener("abort", () => (aborted = true));
    return new Promise<string>(() => undefined);
  }).catch((error: unknown) => error);

  assert.ok(outcome instanceof BudgetExceeded);
  assert.equal(aborted, true);
  assert.ok(Date.now() - startedAt < BUDGET_MS * 5);
});

test("work that finishes within the budget returns its answer", async () => {
  assert.equal(await withBudget(1000, async () => "job"), "job");
});
