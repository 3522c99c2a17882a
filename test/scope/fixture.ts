/**
 * A gha-cache server wired to a fake GitHub, and the calls a runner makes: the job-start report
 * and v1 cache calls (reserve needs a write scope, so its status shows the decision).
 */
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

export const REPOSITORY = "octo/app";

export interface Fixture {
  server: TestServer;
  github: FakeGitHub;
  close(): Promise<void>;
}

export interface FixtureOptions {
  budgetMs?: number;
  negativeCacheMs?: number;
  /** Leave the GitHub App unconfigured: webhooks are then the only source. */
  withoutApp?: boolean;
  /** The server's log level; debug unless said. */
  logLevel?: string;
}

export async function startWithGitHub(options: FixtureOptions = {}): Promise<Fixture> {
  const github = await startFakeGitHub();
  const env: Record<string, string> = {
    GHA_CACHE_RESOLVE_BUDGET_MS: String(options.budgetMs ?? 5000),
    GHA_CACHE_NEGATIVE_CACHE_MS: String(options.negativeCacheMs ?? 60_000),
  };
  if (options.logLevel !== undefined) env.GHA_CACHE_LOG_LEVEL = options.logLevel;
  if (!options.withoutApp) {
    env.GHA_CACHE_GITHUB_APP_ID = github.appId;
    env.GHA_CACHE_GITHUB_PRIVATE_KEY = github.privateKeyPem;
    env.GHA_CACHE_GITHUB_API_URL = github.url;
  }
  const server = await startTestServer(env);
  return {
    server,
    github,
    async close() {
      await server.close();
      await github.close();
    },
  };
}

export interface CallOptions {
  key?: string;
  runIdHeader?: number;
  runIdQuery?: number;
}

let keyCounter = 0;

/** v1 reserve: 201 when the job may write, 403 "cache write denied: <reason>" when not. */
export async function reserve(server: TestServer, token: string, options: CallOptions = {}) {
  const query = options.runIdQuery === undefined ? "" : `?run_id=${options.runIdQuery}`;
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
  };
  if (options.runIdHeader !== undefined) headers["x-github-run-id"] = String(options.runIdHeader);
  keyCounter += 1;
  const response = await fetch(`${server.url}/_apis/artifactcache/caches${query}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ key: options.key ?? `key-${keyCounter}`, version: "v1", cacheSize: 10 }),
  });
  const body = (await response.json()) as { message?: string; cacheId?: number };
  return { status: response.status, message: body.message ?? "" };
}

/**
 * v1 lookup of one key: the status (204 is a miss, and also what a refused read answers, so the
 * decision itself is in the server's scope_decision log line).
 */
export async function lookup(
  server: TestServer,
  token: string,
  runIdHeader?: number,
): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (runIdHeader !== undefined) headers["x-github-run-id"] = String(runIdHeader);
  const response = await fetch(
    `${server.url}/_apis/artifactcache/cache?keys=burst-key&version=v1`,
    { headers },
  );
  await response.arrayBuffer();
  return response.status;
}

/** POST /runner/job-started. */
export async function reportJobStart(server: TestServer, token: string | undefined, body: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}/runner/job-started`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const answer = (await response.json()) as { message?: string };
  return { status: response.status, message: answer.message ?? "" };
}

/** Log lines of one event. */
export function logsOf(server: TestServer, event: string): Record<string, unknown>[] {
  return server.logs.filter((line) => line.event === event);
}

/** Waits, polling, until `check` holds; fails after `timeoutMs`. For background work only. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const POLL_MS = 10;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
