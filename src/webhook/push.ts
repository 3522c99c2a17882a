/**
 * Turns a `push` event into a record of which full ref now points at which commit: the only
 * place GitHub says whether a push run's bare name was a branch or a tag without being asked.
 */
import type { RunStore } from "../scope/run-store.js";

export interface PushOutcome {
  recorded: boolean;
  reason: string;
  repository?: string;
  ref?: string;
}

/** Only branches and tags are scopes; other refs (notes, review refs) are of no use here. */
const SCOPE_REF = /^refs\/(heads|tags)\/./;
const COMMIT_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** GitHub's `after` for a deleted ref. */
const NO_COMMIT = /^0+$/;

interface PushPayload {
  ref?: unknown;
  after?: unknown;
  deleted?: unknown;
  repository?: { full_name?: unknown };
  installation?: { id?: unknown };
}

export async function recordPush(runs: RunStore, payload: PushPayload): Promise<PushOutcome> {
  const repository = payload.repository?.full_name;
  const installationId = payload.installation?.id;
  const { ref, after } = payload;
  if (typeof repository !== "string")
    return { recorded: false, reason: "payload has no repository.full_name" };
  if (typeof installationId !== "number")
    return { recorded: false, reason: "payload has no installation id" };
  if (typeof ref !== "string" || !SCOPE_REF.test(ref))
    return { recorded: false, reason: "not a branch or tag push" };
  if (payload.deleted === true || typeof after !== "string" || NO_COMMIT.test(after)) {
    return { recorded: false, reason: "the ref was deleted", repository, ref };
  }
  if (!COMMIT_SHA.test(after))
    return { recorded: false, reason: "after is not a commit id", repository, ref };
  await runs.recordPush(repository, ref, after, installationId);
  return { recorded: true, reason: "recorded", repository, ref };
}
