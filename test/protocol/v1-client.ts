/**
 * The real `@actions/cache` 3.x client (installed as `actions-cache-v1`), pointed at a test
 * server as a runner would point it: the client reads ACTIONS_CACHE_URL, ACTIONS_RUNTIME_TOKEN,
 * GITHUB_WORKSPACE and RUNNER_TEMP from the environment at call time, so each call sets them.
 *
 * The client never throws on a failed save or restore (caching is optional to a workflow); it
 * prints `::warning::` lines instead. Those lines are captured so tests can read why.
 */
import cacheV1 from "actions-cache-v1";
import type { DownloadOptions, UploadOptions } from "actions-cache-v1/lib/options.js";
import type { TestServer } from "../helpers/server.js";
import { captureClientOutput, type ClientOutcome } from "../helpers/client-output.js";

export type { ClientOutcome };

/** The two calls a workflow makes; `@actions/cache` 3.x and the current major share them. */
export interface CacheClientModule {
  saveCache(paths: string[], key: string, options?: UploadOptions): Promise<number>;
  restoreCache(
    paths: string[],
    key: string,
    restoreKeys?: string[],
    options?: DownloadOptions,
  ): Promise<string | undefined>;
}

export class V1Client {
  constructor(
    private readonly serverUrl: string,
    public token: string,
    private readonly workspace: string,
    private readonly runnerTemp: string,
    private readonly client: CacheClientModule = cacheV1,
  ) {}

  /** Saves `paths` (absolute, inside the workspace) under `key`; the value is the id, or -1. */
  save(paths: string[], key: string, options?: UploadOptions): Promise<ClientOutcome<number>> {
    return this.call(() => this.client.saveCache(paths, key, options));
  }

  /** Restores into the workspace; the value is the matched key, or undefined on a miss. */
  restore(
    paths: string[],
    key: string,
    restoreKeys: string[] = [],
    options?: DownloadOptions,
  ): Promise<ClientOutcome<string | undefined>> {
    return this.call(() => this.client.restoreCache(paths, key, restoreKeys, options));
  }

  private async call<T>(action: () => Promise<T>): Promise<ClientOutcome<T>> {
    process.env.ACTIONS_CACHE_URL = `${this.serverUrl}/`;
    process.env.ACTIONS_RUNTIME_TOKEN = this.token;
    process.env.GITHUB_WORKSPACE = this.workspace;
    process.env.RUNNER_TEMP = this.runnerTemp;
    delete process.env.ACTIONS_CACHE_SERVICE_V2;
    delete process.env.ACTIONS_RESULTS_URL;

    return captureClientOutput(action);
  }
}

/** The `::warning::` and info lines that mention `text`. */
export function said(outcome: ClientOutcome<unknown>, text: string): boolean {
  return outcome.output.some((line) => line.includes(text));
}

/** The `::warning::` lines of an outcome, without the command prefix. */
export function warnings(outcome: ClientOutcome<unknown>): string[] {
  return outcome.output
    .filter((line) => line.startsWith("::warning::"))
    .map((line) => line.slice("::warning::".length));
}

export { completeJob, runnerOnBranch, type RunnerOnJob } from "../helpers/runner-jobs.js";

export interface RawResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/**
 * A v1 call as a client other than the official one might make it: `path` is relative to
 * `_apis/artifactcache/`; a string body is sent as is, anything else as JSON.
 */
export async function v1Call(
  serverUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const init: RequestInit = {
    method,
    headers: {
      accept: "application/json;api-version=6.0-preview.1",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined || typeof body !== "object" || body instanceof Uint8Array
        ? {}
        : { "content-type": "application/json" }),
      ...headers,
    },
  };
  if (body !== undefined) {
    init.body =
      typeof body === "string" || body instanceof Uint8Array
        ? (body as BodyInit)
        : JSON.stringify(body);
  }
  const response = await fetch(`${serverUrl}/_apis/artifactcache/${path}`, init);
  const text = await response.text();
  let parsed: unknown = text === "" ? undefined : text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The `message` of a v1 error body. */
export function messageOf(response: RawResponse): string {
  const body = response.body as { message?: unknown } | undefined;
  return typeof body?.message === "string"
    ? body.message
    : `(no message; body ${JSON.stringify(response.body)})`;
}
