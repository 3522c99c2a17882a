/**
 * Which pull request a pull_request-type run is for. The run's own list counts only when exactly
 * one entry's base is this repository; a fork's run often lists none, so GitHub is asked for the
 * pull requests whose head is the fork's branch, and only one whose head commit is the run's
 * and whose base is this repository counts. Anything else establishes "no pull request", and
 * the run may then not write (GitHub's reference, section 3.4: never widen on a guess).
 */
import type { GitHubClient } from "../github/client.js";
import type { ListedPullRequest } from "../github/shapes.js";
import type { PullRequestFacts } from "./run-scopes.js";
import type { PullRequestSource, RunRecord } from "./run-store.js";

export interface PullRequestAnswer {
  pr: PullRequestFacts | null;
  /** Where the answer came from; null when it is not established and must not be stored. */
  source: PullRequestSource | null;
  why: string;
}

/** GitHub spells owner and repository names in any case and treats them alike. */
export function sameRepository(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.toLowerCase() === b.toLowerCase();
}

export async function establishPullRequest(
  run: RunRecord,
  github: GitHubClient | undefined,
  signal: AbortSignal,
): Promise<PullRequestAnswer> {
  const listed = (JSON.parse(run.listed_pull_requests) as ListedPullRequest[]).filter(
    (pr) => pr.baseRef !== null && sameRepository(pr.baseRepository, run.repository),
  );
  const [only] = listed;
  if (listed.length === 1 && only?.baseRef) {
    const pr = { number: only.number, baseRef: only.baseRef, baseRepository: run.repository };
    return { pr, source: "run", why: `pull request #${pr.number} listed on the run` };
  }
  const fork = run.head_repository !== null && !sameRepository(run.head_repository, run.repository);
  if (!fork) {
    return {
      pr: null,
      source: "none",
      why: `the run lists ${listed.length} pull requests into ${run.repository}`,
    };
  }
  const forkOwner = run.head_repository?.split("/")[0];
  if (!forkOwner || run.head_branch === null || run.head_sha === null) {
    return { pr: null, source: "none", why: "the fork's run names no head branch or commit" };
  }
  if (github === undefined) {
    return {
      pr: null,
      source: null,
      why: "no GitHub App is configured to look up the fork's pull request",
    };
  }
  const head = `${forkOwner}:${run.head_branch}`;
  const pulls = await github.pullRequestsByHead(
    Number(run.installation_id),
    run.repository,
    head,
    signal,
  );
  const matching = pulls.filter(
    (pr) =>
      pr.headSha === run.head_sha &&
      pr.baseRef !== null &&
      sameRepository(pr.baseRepository, run.repository),
  );
  const [found] = matching;
  if (matching.length !== 1 || !found?.baseRef) {
    const why = `${matching.length} pull requests from ${head} at the run's commit into ${run.repository}`;
    return { pr: null, source: "none", why };
  }
  const pr = { number: found.number, baseRef: found.baseRef, baseRepository: run.repository };
  return { pr, source: "pulls_api", why: `pull request #${pr.number} found from ${head}` };
}
