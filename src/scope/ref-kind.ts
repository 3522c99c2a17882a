/**
 * Whether a push-like run's bare name is a branch or a tag. The run object has no full ref, and
 * a branch and a tag may share a name (GitHub's reference, section 4): the `push` webhooks seen
 * for the run's commit answer first, else GitHub's git refs. Both present is ambiguous, neither
 * is unknown, and a failed question is never answered with a guess.
 */
import type { GitHubClient } from "../github/client.js";
import { branchRef, tagRef } from "./refs.js";
import type { RefKind } from "./run-scopes.js";
import type { RefKindSource, RunRecord, RunStore } from "./run-store.js";

export interface RefKindAnswer {
  kind: RefKind;
  /** Where the answer came from; null when it is not established and must not be stored. */
  source: RefKindSource | null;
  why: string;
}

export async function determineRefKind(
  run: RunRecord,
  runs: RunStore,
  github: GitHubClient | undefined,
  signal: AbortSignal,
): Promise<RefKindAnswer> {
  if (run.event === "release")
    return { kind: "tag", source: "event", why: "release runs are for a tag" };
  const name = run.head_branch;
  if (name === null)
    return { kind: "unknown", source: null, why: "the run names no branch or tag" };
  const installationId = Number(run.installation_id);
  const refs = [branchRef(name), tagRef(name)];
  if (run.head_sha !== null) {
    const pushed = await runs.pushedAt(run.repository, installationId, refs, run.head_sha);
    if (pushed.length > 0)
      return {
        ...kindOf(pushed.includes(refs[0]!), pushed.includes(refs[1]!)),
        source: "push_webhook",
      };
  }
  if (github === undefined) {
    return {
      kind: "unknown",
      source: null,
      why: `no push of ${name} seen and no GitHub App is configured to ask`,
    };
  }
  const [isBranch, isTag] = await Promise.all(
    refs.map((ref) => github.refExists(installationId, run.repository, ref, signal)),
  );
  return { ...kindOf(isBranch === true, isTag === true), source: "git_refs_api" };
}

function kindOf(isBranch: boolean, isTag: boolean): { kind: RefKind; why: string } {
  if (isBranch && isTag) return { kind: "ambiguous", why: "a branch and a tag share the name" };
  if (isBranch) return { kind: "branch", why: "the name is a branch" };
  if (isTag) return { kind: "tag", why: "the name is a tag" };
  return { kind: "unknown", why: "the name is neither a branch nor a tag" };
}
