/**
 * Signed GitHub webhooks for tests, in the shape of GitHub's own `workflow_job` examples
 * (from @octokit/webhooks-examples), signed with the real algorithm.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";
import {
  defaultHeadSha,
  pushedRefs,
  pushPayload,
  workflowRunPayload,
  type RunOfJob,
  type RunSpec,
} from "./run-webhooks.js";

const require = createRequire(import.meta.url);

export interface JobSpec {
  action: "queued" | "waiting" | "in_progress" | "completed";
  jobId: number;
  runId: number;
  runAttempt?: number;
  repository: string;
  defaultBranch?: string;
  headBranch: string | null;
  /** The job's (and its run's) head commit; one per repository and branch by default. */
  headSha?: string;
  runnerName: string | null;
  installationId?: number;
  startedAt?: string;
  /**
   * The run the job belongs to, reported by `server.jobEvent` through workflow_run and push
   * webhooks before the job itself: a push to the head branch by default; null reports none.
   */
  run?: RunSpec | null;
}

interface ExampleSet {
  name: string;
  examples: Record<string, unknown>[];
}

/** GitHub's own example of a workflow_job event with this action. */
function example(action: string): Record<string, any> {
  const all = require("@octokit/webhooks-examples/api.github.com/index.json") as ExampleSet[];
  const set = all.find((s) => s.name === "workflow_job");
  const found = set?.examples.find((e) => e.action === action) ?? set?.examples[0];
  if (!found) throw new Error("no workflow_job example in @octokit/webhooks-examples");
  return structuredClone(found) as Record<string, any>;
}

export function workflowJobPayload(spec: JobSpec): Record<string, unknown> {
  const payload = example(spec.action);
  const [owner, name] = spec.repository.split("/");
  payload.action = spec.action;
  payload.workflow_job = {
    ...payload.workflow_job,
    id: spec.jobId,
    run_id: spec.runId,
    run_attempt: spec.runAttempt ?? 1,
    head_branch: spec.headBranch,
    head_sha: spec.headSha ?? defaultHeadSha(spec.repository, spec.headBranch),
    status: spec.action,
    runner_name: spec.runnerName,
    started_at: spec.startedAt ?? new Date().toISOString(),
    completed_at: spec.action === "completed" ? new Date().toISOString() : null,
  };
  payload.repository = {
    ...payload.repository,
    name,
    full_name: spec.repository,
    owner: { ...payload.repository?.owner, login: owner },
    default_branch: spec.defaultBranch ?? "main",
  };
  payload.installation = { ...(payload.installation ?? {}), id: spec.installationId ?? 1 };
  return payload;
}

interface Hook {
  event: string;
  payload: Record<string, unknown>;
}

/**
 * The webhooks that report a job's run, to send before the job itself: its workflow_run (unless
 * the spec says none) and the pushes of its ref. None when `spec.run` is null.
 */
export function runWebhooksOf(spec: JobSpec): Hook[] {
  if (spec.run === null) return [];
  const run: RunOfJob = {
    runId: spec.runId,
    runAttempt: spec.runAttempt ?? 1,
    repository: spec.repository,
    headBranch: spec.headBranch,
    headSha: spec.headSha ?? defaultHeadSha(spec.repository, spec.headBranch),
    installationId: spec.installationId ?? 1,
    jobAction: spec.action,
  };
  const hooks: Hook[] = [];
  if (!spec.run?.withoutWorkflowRun) {
    hooks.push({ event: "workflow_run", payload: workflowRunPayload(run, spec.run) });
  }
  for (const ref of pushedRefs(run, spec.run))
    hooks.push({ event: "push", payload: pushPayload(run, ref) });
  return hooks;
}

/** Posts a webhook signed with `secret`; returns the status. */
export async function sendWebhook(
  baseUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  options: { delivery?: string; signature?: string } = {},
): Promise<number> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${baseUrl}/webhooks/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": options.delivery ?? randomUUID(),
      "x-hub-signature-256": options.signature ?? (await sign(secret, body)),
      "user-agent": "GitHub-Hookshot/test",
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}
