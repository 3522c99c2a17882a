/**
 * From a job to the refs it may read and write. This is the one place that does it: the job's
 * run facts (event, head repository, pull request, branch or tag) go through GitHub's event
 * table (run-scopes.ts); without them the job is read-only on the default branch, which is less
 * than the seed's rule (write the bare head branch) ever gave, and never more.
 */
import type { FactsOutcome } from "./run-facts.js";
import { runScopes, sharedScopes, type RunScopes } from "./run-scopes.js";
import type { ProtectionSetting } from "./protection.js";

export const branchRef = (branch: string) => `refs/heads/${branch}`;
export const tagRef = (tag: string) => `refs/tags/${tag}`;
export const pullRef = (number: number) => `refs/pull/${number}/merge`;

/** The scopes of a job, from its run's facts and the repository's default branch. */
export function jobScopes(run: FactsOutcome, defaultBranch: string | null): RunScopes {
  const defaults = defaultBranch ? [branchRef(defaultBranch)] : [];
  if (!run.known) {
    return {
      readScopes: defaults,
      writeScope: null,
      reason: `read-only on the default branch: ${run.missing}`,
    };
  }
  const scopes = runScopes(run.facts, defaultBranch);
  const notes = run.notes.length > 0 ? ` (${run.notes.join("; ")})` : "";
  return { ...scopes, reason: `${scopes.reason}${notes}` };
}

/** Branch protection switched off: one shared scope, and the reason says so and why. */
export function unprotectedScopes(
  repository: string,
  setting: ProtectionSetting,
  event: string | null,
): RunScopes {
  const scopes = sharedScopes();
  const by = setting.decidedBy === "repository" ? "for this repository" : "for its installation";
  return {
    ...scopes,
    reason: `${event ?? "unknown event"} run: branch protection is off ${by} (${repository}): one shared scope`,
  };
}
