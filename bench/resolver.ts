/**
 * Resolver benchmark: what resolving a runner's job costs at GitHub when its webhook never came,
 * against a fake GitHub on 127.0.0.1 and a real gha-cache server, reporting counts and ratios.
 *
 *   burst:  50 concurrent v1 lookups from one runner carrying x-github-run-id, cold; GitHub API
 *           calls by route, latency p50/p95, and the cold p50 against a warm call's p50.
 *   matrix: a 500-job run (5 pages of 100) with the runner's job on the last page, hinted.
 *   search: the same matrix run found with no hint, through the in-progress run search.
 *
 * Call counts are deterministic and checked: the process exits 1 when a bound is broken.
 * Times are printed for reading, never checked. Usage: npm run bench:resolver
 */
import { JOBS_PER_PAGE } from "../src/github/client.js";
import { MAX_SEARCH_API_CALLS } from "../src/scope/run-search.js";
import { runOfJobs, type FakeGitHub, type FakeRoute } from "../test/helpers/fake-github.js";
import { FAKE_HEAD_SHA } from "../test/helpers/fake-github-runs.js";
import { pushPayload, workflowRunPayload } from "../test/helpers/run-webhooks.js";
import { TEST_WEBHOOK_SECRET, type TestServer } from "../test/helpers/server.js";
import { sendWebhook } from "../test/helpers/webhooks.js";
import { logsOf, lookup, REPOSITORY, startWithGitHub } from "../test/scope/fixture.js";

const BURST_CALLS = 50;
const WARM_CALLS = 50;
/** Calls to establish the job in a burst: the installation token and one page of jobs. */
const BURST_JOB_CALLS_BOUND = 2;
/** Each question about the run once; the ref kind asks for a branch and a tag of the name. */
const FACT_CALLS_BOUND: Partial<Record<FakeRoute, number>> = {
  repository: 1,
  run_attempt: 1,
  git_ref: 2,
};
const MATRIX_JOBS = 500;
const SMALL_RUN_JOBS = 20;
const BURST_RUN = 7001;
const MATRIX_RUN = 7002;
const SEARCH_RUN = 7003;
const RUN_EVENTS_RUN = 7004;
const PERCENT = 100;
const P50 = 50;
const P95 = 95;

const broken: string[] = [];

/** "value (bound limit) ok", remembering the bound as broken when the value exceeds it. */
function bounded(what: string, value: number, limit: number): string {
  const holds = value <= limit;
  if (!holds) broken.push(`${what}: ${value} > ${limit}`);
  return `${value} (bound ${limit}) ${holds ? "ok" : "BROKEN"}`;
}

function percentile(values: number[], percent: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * percent) / PERCENT))]!;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

async function timedLookup(server: TestServer, token: string, runId?: number): Promise<number> {
  const started = performance.now();
  await lookup(server, token, runId);
  return performance.now() - started;
}

function concurrentLookups(server: TestServer, token: string, runId?: number): Promise<number[]> {
  return Promise.all(Array.from({ length: BURST_CALLS }, () => timedLookup(server, token, runId)));
}

/** Calls per route made while `work` ran. */
async function counted(github: FakeGitHub, work: () => Promise<void>) {
  const before = github.calls.length;
  await work();
  const routes = new Map<FakeRoute, number>();
  for (const call of github.calls.slice(before))
    routes.set(call.route, (routes.get(call.route) ?? 0) + 1);
  return (route: FakeRoute) => routes.get(route) ?? 0;
}

/** Calls the server's gate allowed for this runner (it logs every decision at info). */
function allowedFor(server: TestServer, runner: string): number {
  const decisions = logsOf(server, "scope_decision");
  return decisions.filter((line) => line.runner === runner && line.allowed === true).length;
}

async function burst(server: TestServer, github: FakeGitHub): Promise<string[]> {
  const runner = "burst-runner";
  const { token } = await server.registerRunner(runner, REPOSITORY);
  github.addRun(
    REPOSITORY,
    BURST_RUN,
    runOfJobs(BURST_RUN, SMALL_RUN_JOBS, { index: 0, runnerName: runner }),
  );
  let cold: number[] = [];
  const calls = await counted(github, async () => {
    cold = await concurrentLookups(server, token, BURST_RUN);
  });
  const allowed = allowedFor(server, runner);
  const warm: number[] = [];
  for (let call = 0; call < WARM_CALLS; call += 1)
    warm.push(await timedLookup(server, token, BURST_RUN));
  const warmBurst = await concurrentLookups(server, token, BURST_RUN);

  const jobCalls = calls("access_tokens") + calls("jobs");
  const facts = Object.entries(FACT_CALLS_BOUND).map(
    ([route, limit]) => `${route} ${bounded(`burst ${route}`, calls(route as FakeRoute), limit)}`,
  );
  const total = github.calls.filter((call) => call.route !== "unknown").length;
  const [coldP50, warmP50, warmBurstP50] = [cold, warm, warmBurst].map((times) =>
    percentile(times, P50),
  );
  return [
    `burst: ${BURST_CALLS} concurrent v1 lookups with x-github-run-id, webhook withheld`,
    `  calls to establish the job (token + job pages): ${bounded("burst job calls", jobCalls, BURST_JOB_CALLS_BOUND)}`,
    `  run facts: ${facts.join(", ")}`,
    `  all GitHub API calls, warm calls included: ${total}`,
    `  calls refused: ${bounded("burst refusals", BURST_CALLS - allowed, 0)}`,
    `  cold burst latency: p50 ${ms(coldP50!)}, p95 ${ms(percentile(cold, P95))}`,
    `  warm call (one at a time): p50 ${ms(warmP50!)}; cold p50 / warm p50 = ${(coldP50! / warmP50!).toFixed(1)}`,
    `  warm burst (${BURST_CALLS} at once): p50 ${ms(warmBurstP50!)}; ` +
      `cold p50 / warm burst p50 = ${(coldP50! / warmBurstP50!).toFixed(1)}`,
  ];
}

/**
 * The burst again with only the workflow_job webhook withheld: the run's workflow_run and push
 * events came, so its facts and default branch are known and the job is all GitHub is asked.
 */
async function burstWithRunEvents(server: TestServer, github: FakeGitHub): Promise<string[]> {
  const runner = "run-events-runner";
  const { token } = await server.registerRunner(runner, REPOSITORY);
  github.addRun(
    REPOSITORY,
    RUN_EVENTS_RUN,
    runOfJobs(RUN_EVENTS_RUN, SMALL_RUN_JOBS, { index: 0, runnerName: runner }),
  );
  const job = {
    runId: RUN_EVENTS_RUN,
    runAttempt: 1,
    repository: REPOSITORY,
    headBranch: "feature",
    headSha: FAKE_HEAD_SHA,
    installationId: 1,
    jobAction: "in_progress",
  };
  await sendWebhook(server.url, TEST_WEBHOOK_SECRET, "workflow_run", workflowRunPayload(job));
  await sendWebhook(
    server.url,
    TEST_WEBHOOK_SECRET,
    "push",
    pushPayload(job, "refs/heads/feature"),
  );
  const before = github.calls.length;
  await concurrentLookups(server, token, RUN_EVENTS_RUN);
  const total = github.calls.length - before;
  return [
    `burst, only workflow_job withheld (workflow_run and push delivered): ${BURST_CALLS} concurrent lookups`,
    `  all GitHub API calls: ${bounded("burst with run events", total, BURST_JOB_CALLS_BOUND)}`,
    `  calls refused: ${bounded("burst with run events refusals", BURST_CALLS - allowedFor(server, runner), 0)}`,
  ];
}

/** A 500-job run with the runner's job on its last page, resolved with or without a hint. */
async function matrix(
  server: TestServer,
  github: FakeGitHub,
  withHint: boolean,
): Promise<string[]> {
  const runner = withHint ? "matrix-runner" : "search-runner";
  const runId = withHint ? MATRIX_RUN : SEARCH_RUN;
  const name = withHint ? "matrix (hinted)" : "matrix (no hint: search, the newest run)";
  const { token } = await server.registerRunner(runner, REPOSITORY);
  const mine = { index: MATRIX_JOBS - 1, runnerName: runner };
  github.addRun(REPOSITORY, runId, runOfJobs(runId, MATRIX_JOBS, mine));
  let elapsedMs = 0;
  const calls = await counted(github, async () => {
    elapsedMs = await timedLookup(server, token, withHint ? runId : undefined);
  });

  const expected = Math.ceil(MATRIX_JOBS / JOBS_PER_PAGE);
  const unresolved = 1 - allowedFor(server, runner);
  const lines = [
    `${name}: ${MATRIX_JOBS} jobs, the runner's on the last page; ${ms(elapsedMs)}`,
    `  calls refused: ${bounded(`${name} refusals`, unresolved, 0)}`,
    `  job pages fetched vs ceil(${MATRIX_JOBS}/${JOBS_PER_PAGE}): ${bounded(`${name} pages`, calls("jobs"), expected)}`,
  ];
  if (!withHint) {
    const searchCalls = calls("runs") + calls("jobs");
    lines.push(
      `  run-list pages: ${bounded("run-list pages", calls("runs"), 1)}`,
      `  search calls: ${bounded("search calls", searchCalls, MAX_SEARCH_API_CALLS)}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  // Info, not debug: the decisions the bench counts are logged, the chatter is not.
  const { server, github, close } = await startWithGitHub({ logLevel: "info" });
  try {
    const lines = [
      ...(await burst(server, github)),
      ...(await matrix(server, github, true)),
      ...(await matrix(server, github, false)),
      // Last: its run would otherwise be the newest in-progress run the search walks first.
      ...(await burstWithRunEvents(server, github)),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await close();
  }
  if (broken.length > 0) {
    process.stderr.write(`bounds broken: ${broken.join("; ")}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
