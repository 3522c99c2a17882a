/**
 * From a job to the refs it may read and write. This is the seed's rule (write the job's branch;
 * read it, then the default branch), the floor that the full event table is built on.
 */
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
