/**
 * From a job to the refs it may read and write. This is the seed's rule (write the job's branch;
 * read it, then the default branch), the floor that the full event table is built on.
 */
import type { JobRecord } from "./job-store.js";

export const branchRef = (branch: string) => `refs/heads/${branch}`;
export const tagRef = (tag: string) => `refs/tags/${tag}`;
export const pullRef = (number: number) => `refs/pull/${number}/merge`;

export interface BranchScopes {
  readScopes: string[];
  writeScope: string | null;
}

/** Own branch first, then the default branch; no duplicates; nothing when neither is known. */
export function branchScopes(headBranch: string | null, defaultBranch: string | null): BranchScopes {
  const readScopes: string[] = [];
  if (headBranch) readScopes.push(branchRef(headBranch));
  if (defaultBranch && defaultBranch !== headBranch) readScopes.push(branchRef(defaultBranch));
  return { readScopes, writeScope: headBranch ? branchRef(headBranch) : null };
}

/**
 * The scopes of a job. This is the one place that turns a job into refs: the full event table
 * (tags, pull requests, read-only triggers, from GitHub's "get a workflow run") replaces the
 * seed's rule here, and nothing upstream changes.
 */
export function jobScopes(job: JobRecord, defaultBranch: string | null): BranchScopes {
  return branchScopes(job.head_branch, defaultBranch);
}
