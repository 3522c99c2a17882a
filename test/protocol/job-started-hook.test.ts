/**
 * scripts/job-started-hook.sh run as the runner runs it (a child process with the job's
 * GITHUB_* variables and the runner's CUSTOM_ACTIONS_CACHE_URL): it reports the run to a real
 * server, and it never fails the job, whatever goes wrong.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "../helpers/server.js";

const REPOSITORY = "octo/hooked";
const SCRIPT = "scripts/job-started-hook.sh";
/** The script's own timeouts are 3 s to connect and 5 s in all; this bounds a stuck test. */
const CHILD_TIMEOUT_MS = 15_000;

let server: TestServer;
let token: string;
let runnerId: string;

before(async () => {
  server = await startTestServer();
  const registered = await server.registerRunner("runner-hooked", REPOSITORY);
  token = registered.token;
  runnerId = registered.runner.id;
});
after(async () => {
  await server.close();
});

/** The script in the repository: found above the compiled test, or under the working folder. */
function scriptPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, SCRIPT))) return path.join(dir, SCRIPT);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(SCRIPT);
}

interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runHook(env: Record<string, string>): Promise<HookRun> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [scriptPath()],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: CHILD_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function jobEnv(cacheUrl: string): Record<string, string> {
  return {
    CUSTOM_ACTIONS_CACHE_URL: cacheUrl,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_RUN_ID: "987654",
    GITHUB_RUN_ATTEMPT: "2",
  };
}

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test("the hook reports the run through /r/<token>/ and the hint is recorded", async () => {
  const run = await runHook(jobEnv(`${server.url}/r/${token}/`));

  assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });
  const hint = (await server.server.services.runners.get(runnerId))?.hint;
  assert.equal(hint?.repository, REPOSITORY);
  assert.equal(hint?.runId, 987654);
  assert.equal(hint?.runAttempt, 2);
  assert.ok(!server.rawLogs.some((line) => line.includes(token.split(".")[2]!)));
});

test("a service that is down costs one warning line and exit 0", async () => {
  const run = await runHook(jobEnv(`http://127.0.0.1:${await closedPort()}/r/${token}/`));

  assert.equal(run.code, 0);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr,
    /^gha-cache job-started hook: the cache service could not be reached .*\n$/,
  );
  assert.ok(!run.stderr.includes(token));
});

test("a refused report (a bad token) is one warning with the status, and exit 0", async () => {
  const run = await runHook(jobEnv(`${server.url}/r/not-a-token/`));

  assert.equal(run.code, 0);
  assert.match(
    run.stderr,
    /^gha-cache job-started hook: the cache service answered HTTP 401; .*\n$/,
  );
  assert.ok(!run.stderr.includes("not-a-token"));
});

for (const [what, change, message] of [
  ["no cache URL", { CUSTOM_ACTIONS_CACHE_URL: "" }, /CUSTOM_ACTIONS_CACHE_URL is not set/],
  ["no run id", { GITHUB_RUN_ID: "" }, /GITHUB_RUN_ID is missing or not a number/],
  ["a run id that is not a number", { GITHUB_RUN_ID: "12; rm -rf /" }, /GITHUB_RUN_ID is missing/],
  [
    "a repository with a quote",
    { GITHUB_REPOSITORY: 'octo/"x' },
    /GITHUB_REPOSITORY has characters/,
  ],
] as const) {
  test(`${what}: one warning line and exit 0, nothing sent`, async () => {
    const before = server.logs.length;
    const run = await runHook({ ...jobEnv(`${server.url}/r/${token}/`), ...change });

    assert.equal(run.code, 0);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split("\n").length, 1);
    assert.ok(!server.logs.slice(before).some((line) => line.event === "job_start_reported"));
  });
}
