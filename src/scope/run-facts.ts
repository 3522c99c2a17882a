/**
 * A job's run facts (trigger event, head repository, pull request, branch or tag), gathered once
 * per run attempt and remembered: from the workflow_run webhook when it came, else from GitHub's
 * "get a workflow run attempt"; then the pull request and the ref kind are established where
 * the event needs them, and stored. Concurrent callers share one gathering (single flight), all
 * inside the first caller's time budget; an incomplete answer is remembered only briefly.
 */
import type { GitHubClient } from "../github/client.js";
import type { Logger } from "../log.js";
import { withBudget } from "./budget.js";
import { explainGitHubFailure } from "./github-failure.js";
import type { JobRecord } from "./job-store.js";
import { NegativeCache } from "./negative-cache.js";
import { establishPullRequest, sameRepository } from "./pull-request.js";
import { determineRefKind } from "./ref-kind.js";
import { OWN_REF_EVENTS, PULL_REQUEST_EVENTS, type RefKind, type RunFacts } from "./run-scopes.js";
import type { RunKey, RunRecord, RunStore } from "./run-store.js";
import { SingleFlight } from "./single-flight.js";

export type FactsOutcome =
  | { known: true; facts: RunFacts; source: string; notes: string[] }
  | { known: false; missing: string };

export class RunFactsSource {
  private readonly flights = new SingleFlight<string, FactsOutcome>();
  private readonly incomplete: NegativeCache<FactsOutcome>;

  constructor(
    private readonly runs: RunStore,
    private readonly github: GitHubClient | undefined,
    private readonly log: Logger,
    negativeCacheMs: number,
  ) {
    this.incomplete = new NegativeCache(negativeCacheMs);
  }

  /** The facts of the job's run attempt, or which fact is missing and why; never throws. */
  async facts(job: JobRecord, budgetMs: number): Promise<FactsOutcome> {
    const key: RunKey = {
      repository: job.repository,
      runId: Number(job.run_id),
      runAttempt: Number(job.run_attempt),
      installationId: Number(job.installation_id),
    };
    const id = [key.installationId, key.repository, key.runId, key.runAttempt].join("|");
    const outcome =
      this.incomplete.get(id) ??
      (await this.flights.run(id, async () => {
        const gathered = await this.gather(key, Date.now() + budgetMs);
        if (!gathered.known || gathered.notes.length > 0) this.narrowed(id, key, gathered);
        return gathered;
      }));
    // The job and its run come from GitHub separately; if they disagree, neither is trusted.
    if (
      outcome.known &&
      job.head_sha !== null &&
      outcome.facts.headSha !== null &&
      job.head_sha !== outcome.facts.headSha
    ) {
      return {
        known: false,
        missing: `run ${key.runId} names commit ${outcome.facts.headSha}, its job ${job.head_sha}`,
      };
    }
    return outcome;
  }

  private async gather(key: RunKey, deadline: number): Promise<FactsOutcome> {
    const what = `getting ${key.repository} run ${key.runId} attempt ${key.runAttempt}`;
    let row = await this.runs.run(key);
    if (row === undefined) {
      if (this.github === undefined) {
        return {
          known: false,
          missing: `no workflow_run webhook for run ${key.runId} attempt ${key.runAttempt} and no GitHub App to ask`,
        };
      }
      try {
        row = await this.fetch(key, this.github, deadline);
      } catch (error) {
        return {
          known: false,
          missing: `trigger event unknown: ${explainGitHubFailure(error, what)}`,
        };
      }
    }
    const notes: string[] = [];
    const pullRequest = await this.pullRequest(row, deadline, notes);
    const refKind = await this.refKind(row, deadline, notes);
    return { known: true, facts: toFacts(row, pullRequest, refKind), source: row.source, notes };
  }

  private async fetch(key: RunKey, github: GitHubClient, deadline: number): Promise<RunRecord> {
    const startedAt = Date.now();
    const run = await withBudget(deadline - startedAt, (signal) =>
      github.runAttempt(key.installationId, key.repository, key.runId, key.runAttempt, signal),
    );
    if (
      run.id !== key.runId ||
      run.runAttempt !== key.runAttempt ||
      (run.repository !== null && !sameRepository(run.repository, key.repository))
    ) {
      throw new Error(
        `GitHub answered about run ${run.id} attempt ${run.runAttempt} of ${run.repository ?? "?"}`,
      );
    }
    const { event, headBranch, headSha, headRepository, pullRequests } = run;
    await this.runs.record({
      ...key,
      event,
      headBranch,
      headSha,
      headRepository,
      listedPullRequests: pullRequests,
      source: "api",
    });
    this.log.info(
      {
        event: "github_run_fetched",
        repository: key.repository,
        run: key.runId,
        attempt: key.runAttempt,
        trigger: event,
        headRepository,
        durationMs: Date.now() - startedAt,
      },
      "asked GitHub for the run's facts",
    );
    const row = await this.runs.run(key);
    if (row === undefined) throw new Error(`run ${key.runId} is recorded for another installation`);
    return row;
  }

  private async pullRequest(row: RunRecord, deadline: number, notes: string[]) {
    if (!PULL_REQUEST_EVENTS.has(row.event)) return null;
    if (row.pr_source !== null) return storedPullRequest(row);
    try {
      const answer = await withBudget(deadline - Date.now(), (signal) =>
        establishPullRequest(row, this.github, signal),
      );
      if (answer.source !== null)
        await this.runs.setPullRequest(keyOf(row), answer.pr, answer.source);
      else notes.push(`pull request not established: ${answer.why}`);
      return answer.pr;
    } catch (error) {
      notes.push(
        `pull request not established: ${explainGitHubFailure(error, "looking up the fork's pull request")}`,
      );
      return null;
    }
  }

  private async refKind(row: RunRecord, deadline: number, notes: string[]): Promise<RefKind> {
    if (!OWN_REF_EVENTS.has(row.event) && row.event !== "release") return "unknown";
    if (row.ref_kind !== null) return row.ref_kind as RefKind;
    try {
      const answer = await withBudget(deadline - Date.now(), (signal) =>
        determineRefKind(row, this.runs, this.github, signal),
      );
      if (answer.source !== null)
        await this.runs.setRefKind(keyOf(row), answer.kind, answer.source);
      else notes.push(`branch or tag not determined: ${answer.why}`);
      return answer.kind;
    } catch (error) {
      notes.push(
        `branch or tag not determined: ${explainGitHubFailure(error, `reading the refs named ${row.head_branch}`)}`,
      );
      return "unknown";
    }
  }

  /**
   * Logs a narrowed answer and, when GitHub was asked, remembers it briefly so a burst of calls
   * is not a burst of API calls. Without an App only the store was read: a webhook that arrives
   * a moment later must count at once.
   */
  private narrowed(id: string, key: RunKey, outcome: FactsOutcome): void {
    if (this.github !== undefined) this.incomplete.set(id, outcome);
    const reason = outcome.known ? outcome.notes.join("; ") : outcome.missing;
    this.log.warn(
      {
        event: "run_facts_incomplete",
        repository: key.repository,
        run: key.runId,
        attempt: key.runAttempt,
        trigger: outcome.known ? outcome.facts.event : null,
        reason,
      },
      "run facts incomplete: the run's scopes are narrowed",
    );
  }
}

function keyOf(row: RunRecord): RunKey {
  return {
    repository: row.repository,
    runId: Number(row.run_id),
    runAttempt: Number(row.run_attempt),
    installationId: Number(row.installation_id),
  };
}

function storedPullRequest(row: RunRecord) {
  if (row.pr_source === "none" || row.pr_number === null || row.pr_base_ref === null) return null;
  return {
    number: Number(row.pr_number),
    baseRef: row.pr_base_ref,
    baseRepository: row.pr_base_repository,
  };
}

function toFacts(row: RunRecord, pullRequest: RunFacts["pullRequest"], refKind: RefKind): RunFacts {
  return {
    runId: Number(row.run_id),
    runAttempt: Number(row.run_attempt),
    event: row.event,
    repository: row.repository,
    headBranch: row.head_branch,
    headSha: row.head_sha,
    headRepository: row.head_repository,
    pullRequest,
    refKind,
  };
}
