/**
 * Callers of the v2 API for tests: the real current `@actions/cache` pointed at a test server as
 * a runner points it, a raw Twirp caller for what the client never sends, and runners whose job
 * the server learns from a signed workflow_job webhook.
 *
 * The client reads its settings from the environment at call time, so each call sets them; it
 * never throws on a failed save or restore but prints `::warning::` lines, captured here.
 */
import * as cache from "@actions/cache";
import type { TestServer } from "../helpers/server.js";
import { captureClientOutput, type ClientOutcome } from "../helpers/client-output.js";

export type { ClientOutcome };

export const CACHE_SERVICE = "github.actions.results.api.v1.CacheService";

export class V2Client {
  constructor(
    private readonly serverUrl: string,
    public token: string,
    private readonly workspace: string,
    private readonly runnerTemp: string,
  ) {}

  /** Saves `paths` (absolute, inside the workspace) under `key`; the value is the entry id or -1. */
  save(paths: string[], key: string): Promise<ClientOutcome<number>> {
    return this.call(() => cache.saveCache(paths, key));
  }

  /** Restores into the workspace; the value is the matched key, or undefined on a miss. */
  restore(
    paths: string[],
    key: string,
    restoreKeys: string[] = [],
  ): Promise<ClientOutcome<string | undefined>> {
    return this.call(() => cache.restoreCache(paths, key, restoreKeys));
  }

  private async call<T>(action: () => Promise<T>): Promise<ClientOutcome<T>> {
    // The client drops any path of ACTIONS_RESULTS_URL; ACTIONS_CACHE_URL is set as a runner
    // sets it, though v2 does not read it. A `.localhost` server URL is "not GHES", so v2 is used.
    process.env.ACTIONS_RESULTS_URL = `${this.serverUrl}/`;
    process.env.ACTIONS_CACHE_URL = `${this.serverUrl}/`;
    process.env.ACTIONS_CACHE_SERVICE_V2 = "true";
    process.env.GITHUB_SERVER_URL = "http://github.localhost";
    process.env.ACTIONS_RUNTIME_TOKEN = this.token;
    process.env.GITHUB_WORKSPACE = this.workspace;
    process.env.RUNNER_TEMP = this.runnerTemp;
    delete process.env.ACTIONS_CACHE_MODE;

    return captureClientOutput(action);
  }
}

/** The `::warning::` lines of an outcome, without the command prefix. */
export function warnings(outcome: ClientOutcome<unknown>): string[] {
  const prefix = "::warning::";
  return outcome.output
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

export interface TwirpResult {
  status: number;
  contentType: string | null;
  /** The parsed JSON body; every Twirp answer has one (protobuf answers are left in `bytes`). */
  json: Record<string, unknown>;
  bytes: Uint8Array;
}

/** Calls a CacheService method as raw HTTP: a JSON object, or bytes sent as `application/protobuf`. */
export async function twirp(
  serverUrl: string,
  token: string | undefined,
  method: string,
  body: Record<string, unknown> | Uint8Array | string,
): Promise<TwirpResult> {
  const protobuf = body instanceof Uint8Array;
  const headers: Record<string, string> = {
    "content-type": protobuf ? "application/protobuf" : "application/json",
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${serverUrl}/twirp/${CACHE_SERVICE}/${method}`, {
    method: "POST",
    headers,
    body: protobuf ? Buffer.from(body) : typeof body === "string" ? body : JSON.stringify(body),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const contentType = response.headers.get("content-type");
  const isJson = contentType?.startsWith("application/json") ?? false;
  return {
    status: response.status,
    contentType,
    json: isJson
      ? (JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>)
      : {},
    bytes,
  };
}

export { completeJob, runnerOnBranch, type RunnerOnJob } from "../helpers/runner-jobs.js";

/** Every `sig=` value and runner token a log line must never hold. */
export function assertNoSecretsLogged(
  server: TestServer,
  tokens: string[],
  signedUrls: string[],
): void {
  const signatures = signedUrls.map((url) => new URL(url).searchParams.get("sig") ?? "");
  const secrets = [...tokens, ...signatures].filter((secret) => secret !== "");
  for (const line of server.rawLogs) {
    for (const secret of secrets) {
      if (line.includes(secret))
        throw new Error(`a log line holds a secret: ${line.slice(0, 200)}`);
    }
  }
}
