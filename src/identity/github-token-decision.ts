/**
 * From a verified GitHub runtime token to a scope decision. GitHub already wrote the scopes into
 * the token (`ac`), so they are taken as they are; the webhook is used as a cross-check where it
 * knows the same run: a token for another repository, for a run whose recorded jobs have all
 * completed, or writing another branch than the run's, is refused. Without a mapped run-id claim
 * (GitHub does not document one) there is nothing to match, and the token's word stands alone.
 */
import type { Db } from "../db/database.js";
import type { Logger } from "../log.js";
import { denied, type ScopeDecision } from "../scope/decision.js";
import type { GitHubTokenIdentity } from "./github-token.js";

const BRANCH_REF_PREFIX = "refs/heads/";

interface RecordedJob {
  repository: string;
  status: string;
  head_branch: string | null;
  run_attempt: number;
}

export class GitHubTokenDecisions {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  async decide(claims: GitHubTokenIdentity): Promise<ScopeDecision> {
    const { repository, runId, scopes } = claims;
    const disagreement = runId === null ? null : await this.disagreement(claims, runId);
    if (disagreement !== null) {
      this.log.warn(
        { event: "github_token_disagrees", repository, run: runId, reason: disagreement },
        "GitHub token and webhook disagree: refused",
      );
      return denied(`GitHub token and webhook disagree: ${disagreement}`, repository);
    }
    return {
      repository,
      readScopes: scopes.readScopes,
      writeScope: scopes.writeScope,
      reason: `scopes from GitHub's runtime token; write: ${scopes.writeReason}`,
      job: null,
    };
  }

  /** Why the webhook's record of the token's run contradicts the token, or null when it does not. */
  private async disagreement(claims: GitHubTokenIdentity, runId: number): Promise<string | null> {
    const rows: RecordedJob[] = await this.db
      .selectFrom("jobs")
      .select(["repository", "status", "head_branch", "run_attempt"])
      .where("run_id", "=", runId)
      .execute();
    if (rows.length === 0) return null;
    const other = rows.find((row) => row.repository !== claims.repository);
    if (other)
      return `run ${runId} belongs to ${other.repository}, the token names ${claims.repository}`;
    const latestAttempt = Math.max(...rows.map((row) => Number(row.run_attempt)));
    const latest = rows.filter((row) => Number(row.run_attempt) === latestAttempt);
    if (latest.every((row) => row.status === "completed")) {
      return `every recorded job of run ${runId} has completed`;
    }
    const write = claims.scopes.writeScope;
    if (write?.startsWith(BRANCH_REF_PREFIX)) {
      const branch = write.slice(BRANCH_REF_PREFIX.length);
      const mismatch = latest.find((row) => row.head_branch !== null && row.head_branch !== branch);
      if (mismatch)
        return `the token writes ${write}, run ${runId} runs for branch ${mismatch.head_branch}`;
    }
    return null;
  }
}
