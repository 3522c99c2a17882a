/**
 * From a run's facts, as GitHub's "get a workflow run" reports them, to the refs a job of that
 * run may read and write: GitHub's own cache rules, by trigger event.
 *
 * The job payload names only a bare `head_branch`, which a fork can set to `main`; the event,
 * the head repository and the pull request come from the run. Whenever a fact is missing or
 * ambiguous the answer is narrower, never wider: no write, and only reads that are certain.
 */
import { branchRef, pullRef, tagRef } from "./refs.js";

export interface PullRequestFacts {
  number: number;
  /** The PR's base branch, in the base repository. */
  baseRef: string;
  /** The repository the base branch lives in (`owner/name`); unknown (null) means not readable. */
  baseRepository: string | null;
}

/** What a branch-or-tag name in a push-like run turned out to be. */
export type RefKind = "branch" | "tag" | "ambiguous" | "unknown";

export interface RunFacts {
  runId: number;
  runAttempt: number;
  event: string;
  repository: string;
  headBranch: string | null;
  /** The run's head commit, when GitHub said. */
  headSha?: string | null;
  /** `owner/name` of the head repository; differs from `repository` for a fork. */
  headRepository: string | null;
  /** The pull request the run is for, when it could be established (and only then). */
  pullRequest: PullRequestFacts | null;
  /** For push-like events: whether `headBranch` names a branch or a tag. */
  refKind: RefKind;
}

export interface RunScopes {
  readScopes: string[];
  writeScope: string | null;
  /** Why the scopes are what they are; logged with every decision. */
  reason: string;
}

/** Events whose runs GitHub lets write their own branch (or tag) and read it then the default. */
export const OWN_REF_EVENTS = new Set(["push", "workflow_dispatch", "merge_group", "create"]);
/** Events whose runs write and read the default branch (they always run on it). */
const DEFAULT_BRANCH_EVENTS = new Set([
  "schedule",
  "repository_dispatch",
  "delete",
  "registry_package",
  "page_build",
]);
/** Pull-request events that run the PR's merge commit in the PR's own scope. */
export const PULL_REQUEST_EVENTS = new Set([
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
]);
/**
 * Events that someone without write access can fire while the run holds the default branch's
 * context: read-only on the default branch, as GitHub made them to stop cache poisoning.
 */
const READ_ONLY_DEFAULT_EVENTS = new Set([
  "pull_request_target",
  "issue_comment",
  "workflow_run",
  "discussion_comment",
]);

export function runScopes(run: RunFacts, defaultBranch: string | null): RunScopes {
  const defaults = defaultBranch ? [branchRef(defaultBranch)] : [];
  const readOnlyDefault = (reason: string): RunScopes => ({
    readScopes: defaults,
    writeScope: null,
    reason,
  });
  const ownAndDefault = (own: string, reason: string): RunScopes => ({
    readScopes: unique([own, ...defaults]),
    writeScope: own,
    reason,
  });
  const fromFork = run.headRepository !== null && run.headRepository !== run.repository;

  if (PULL_REQUEST_EVENTS.has(run.event)) {
    const pr = run.pullRequest;
    if (pr === null)
      return readOnlyDefault(
        `${run.event} run whose pull request could not be established: read-only on the default branch`,
      );
    const merge = pullRef(pr.number);
    // The base branch is readable only when it is certainly a branch of this repository.
    const base = pr.baseRepository === run.repository ? [branchRef(pr.baseRef)] : [];
    return {
      readScopes: unique([merge, ...base, ...defaults]),
      writeScope: merge,
      reason: `${run.event} run for pull request #${pr.number}${fromFork ? " from a fork" : ""}: writes its merge ref`,
    };
  }
  if (READ_ONLY_DEFAULT_EVENTS.has(run.event)) {
    return readOnlyDefault(
      `${run.event} runs may be fired by anyone: read-only on the default branch`,
    );
  }
  if (fromFork) {
    return readOnlyDefault(
      `${run.event} run from another repository (${run.headRepository}): read-only on the default branch`,
    );
  }
  if (DEFAULT_BRANCH_EVENTS.has(run.event)) {
    if (defaultBranch === null)
      return readOnlyDefault(`${run.event} run but the default branch is unknown`);
    return ownAndDefault(branchRef(defaultBranch), `${run.event} runs on the default branch`);
  }
  if (run.event === "release") {
    if (!run.headBranch)
      return readOnlyDefault("release run without a tag name: read-only on the default branch");
    return ownAndDefault(tagRef(run.headBranch), `release run for tag ${run.headBranch}`);
  }
  if (OWN_REF_EVENTS.has(run.event)) {
    if (!run.headBranch)
      return readOnlyDefault(
        `${run.event} run without a ref name: read-only on the default branch`,
      );
    switch (run.refKind) {
      case "branch":
        return ownAndDefault(
          branchRef(run.headBranch),
          `${run.event} run on branch ${run.headBranch}`,
        );
      case "tag":
        return ownAndDefault(tagRef(run.headBranch), `${run.event} run on tag ${run.headBranch}`);
      case "ambiguous":
        return readOnlyDefault(
          `${run.event} run on ${run.headBranch}, which names both a branch and a tag: ` +
            "read-only on the default branch",
        );
      case "unknown":
        return readOnlyDefault(
          `${run.event} run on ${run.headBranch}, not known to be a branch or a tag: ` +
            "read-only on the default branch",
        );
    }
  }
  return readOnlyDefault(`unknown event ${run.event}: read-only on the default branch`);
}

/** Branch protection switched off for a repository: every job shares one scope. */
export const SHARED_SCOPE = "refs/*";

export function sharedScopes(): RunScopes {
  return {
    readScopes: [SHARED_SCOPE],
    writeScope: SHARED_SCOPE,
    reason: "branch protection is off for this repository: one shared scope",
  };
}

function unique(refs: string[]): string[] {
  return [...new Set(refs)];
}
