/**
 * How a failed GitHub call reads in a decision's reason: which failure, and while doing what.
 * The text names GitHub's status or the timing, never a token.
 */
import { GitHubApiError } from "../github/errors.js";
import { BudgetExceeded } from "./budget.js";

export function explainGitHubFailure(error: unknown, what: string): string {
  if (error instanceof BudgetExceeded) return `${error.message} waiting for GitHub while ${what}`;
  if (!(error instanceof GitHubApiError))
    return `internal error while ${what}: ${(error as Error).message}`;
  switch (error.kind) {
    case "rate_limited": {
      const status = error.status ? ` (${error.status})` : "";
      return `GitHub API rate limited${status} until ${new Date(error.retryAt ?? 0).toISOString()}`;
    }
    case "http":
      return `GitHub API error (${error.status}) ${what}`;
    case "timeout":
      return `GitHub API timed out ${what}`;
    default:
      return `GitHub API ${error.kind} ${what}: ${error.message}`;
  }
}
