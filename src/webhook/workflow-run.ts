/**
 * Turns a `workflow_run` event into the run facts the resolver needs (trigger event, head
 * branch, commit and repository, the pull requests GitHub listed), so that no call to GitHub is
 * needed for a run whose webhook came. Facts are per run attempt: a late event of an older
 * attempt lands on its own row and never changes a newer attempt's.
 */
import { parseWorkflowRun } from "../github/shapes.js";
import type { RunStore } from "../scope/run-store.js";

export interface WorkflowRunOutcome {
  recorded: boolean;
  reason: string;
  runId?: number;
  runAttempt?: number;
  repository?: string;
  trigger?: string;
}

/** The actions GitHub sends (a re-run skips `requested`); each carries the same run facts. */
const ACTIONS = new Set(["requested", "in_progress", "completed"]);

interface WorkflowRunPayload {
  action?: unknown;
  workflow_run?: unknown;
  repository?: { full_name?: unknown };
  installation?: { id?: unknown };
}

export async function recordWorkflowRun(
  runs: RunStore,
  payload: WorkflowRunPayload,
): Promise<WorkflowRunOutcome> {
  const repository = payload.repository?.full_name;
  const installationId = payload.installation?.id;
  if (typeof repository !== "string")
    return { recorded: false, reason: "payload has no repository.full_name" };
  if (typeof installationId !== "number")
    return { recorded: false, reason: "payload has no installation id" };
  if (!ACTIONS.has(String(payload.action))) {
    return { recorded: false, reason: `unknown workflow_run action ${String(payload.action)}` };
  }
  let run;
  try {
    run = parseWorkflowRun(payload.workflow_run);
  } catch (error) {
    return { recorded: false, reason: `workflow_run is malformed: ${(error as Error).message}` };
  }
  await runs.record({
    repository,
    runId: run.id,
    runAttempt: run.runAttempt,
    installationId,
    event: run.event,
    headBranch: run.headBranch,
    headSha: run.headSha,
    headRepository: run.headRepository,
    listedPullRequests: run.pullRequests,
    source: "webhook",
  });
  return {
    recorded: true,
    reason: "recorded",
    runId: run.id,
    runAttempt: run.runAttempt,
    repository,
    trigger: run.event,
  };
}
