/**
 * Jobs of runs of every kind, and the raw v1 and v2 calls that save and restore, for the tests of
 * scopes by trigger event. Each job gets its own runner, job id and run id; its run is reported
 * through signed workflow_run and push webhooks unless the spec says otherwise.
 */
import assert from "node:assert/strict";
import type { RunSpec } from "../helpers/run-webhooks.js";
import type { TestServer } from "../helpers/server.js";
import type { JobSpec } from "../helpers/webhooks.js";

const V1 = "/_apis/artifactcache";
const CREATE_ENTRY = "/twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry";
const VERSION = "v-scopes";
const ARCHIVE = Buffer.from("archive bytes");
let nextJob = 1;

export interface Job {
  runnerName: string;
  token: string;
  jobId: number;
  runId: number;
  spec: JobSpec;
}

export interface JobOptions {
  repository: string;
  headBranch: string | null;
  run?: RunSpec | null;
  runAttempt?: number;
  installationId?: number;
  /** Reuse a run id (another job of the same run, or a new attempt of it). */
  runId?: number;
}

/** Registers a runner and reports its job (and the job's run) as in progress. */
export async function startJob(server: TestServer, options: JobOptions): Promise<Job> {
  const jobId = nextJob++;
  const runnerName = `runner-${jobId}`;
  const { token } = await server.registerRunner(
    runnerName,
    options.repository,
    options.installationId ?? 1,
  );
  const spec: JobSpec = {
    action: "in_progress",
    jobId,
    runId: options.runId ?? 70_000 + jobId,
    runAttempt: options.runAttempt,
    repository: options.repository,
    headBranch: options.headBranch,
    runnerName,
    installationId: options.installationId,
    run: options.run,
  };
  assert.equal(await server.jobEvent(spec), 200);
  return { runnerName, token, jobId, runId: spec.runId, spec };
}

/** v1 reserve, upload and commit of one small entry: 201 then 204s, or the refusal. */
export async function save(server: TestServer, job: Job, key: string) {
  const headers = { authorization: `Bearer ${job.token}` };
  const reserved = await fetch(`${server.url}${V1}/caches`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ key, version: VERSION, cacheSize: ARCHIVE.length }),
  });
  const body = (await reserved.json()) as { cacheId?: number; message?: string };
  if (reserved.status !== 201) return { status: reserved.status, message: body.message ?? "" };
  const chunk = await fetch(`${server.url}${V1}/caches/${body.cacheId}`, {
    method: "PATCH",
    headers: {
      ...headers,
      "content-type": "application/octet-stream",
      "content-range": `bytes 0-${ARCHIVE.length - 1}/*`,
    },
    body: ARCHIVE,
  });
  assert.equal(chunk.status, 204, await chunk.text());
  const commit = await fetch(`${server.url}${V1}/caches/${body.cacheId}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ size: ARCHIVE.length }),
  });
  assert.equal(commit.status, 204, await commit.text());
  return { status: reserved.status, message: "" };
}

/** v1 lookup: the scope of the hit, or null on a miss. */
export async function restore(
  server: TestServer,
  job: Job,
  ...keys: string[]
): Promise<string | null> {
  const query = `keys=${encodeURIComponent(keys.join(","))}&version=${VERSION}`;
  const response = await fetch(`${server.url}${V1}/cache?${query}`, {
    headers: { authorization: `Bearer ${job.token}` },
  });
  if (response.status === 204) return null;
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { scope: string }).scope;
}

/** v2 CreateCacheEntry: ok with an upload URL, or ok:false with a message. */
export async function createEntryV2(server: TestServer, job: Job, key: string) {
  const response = await fetch(`${server.url}${CREATE_ENTRY}`, {
    method: "POST",
    headers: { authorization: `Bearer ${job.token}`, "content-type": "application/json" },
    body: JSON.stringify({ key, version: VERSION }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { ok: boolean; message?: string };
}

/** The gate's last refusal of this job's runner, checked to name runner, repository, run, event, reason. */
export function refusalOf(server: TestServer, job: Job): Record<string, unknown> {
  const line = server.logs
    .filter(
      (l) => l.event === "scope_decision" && l.allowed === false && l.runner === job.runnerName,
    )
    .at(-1);
  assert.ok(line, `a refusal logged for ${job.runnerName}`);
  assert.equal(line.repository, job.spec.repository);
  assert.equal(line.run, job.runId);
  assert.ok("trigger" in line, "the refusal names the trigger event");
  assert.equal(typeof line.reason, "string");
  return line;
}
