/**
 * The scope resolver: which refs the calling runner's job may read and write, from what GitHub
 * reported about that job. The webhook's record comes first; without one (late, lost, out of
 * order), GitHub's API is asked about the run a hint names, or, with no hint at all, a repository
 * runner's job is searched for among its repository's in-progress runs. No answer means nothing
 * is allowed.
 *
 * A runner whose job completed gets nothing, unless a hint points past that job (a new run or
 * attempt): then the runner may be on a new job, and GitHub is asked about it.
 *
 * An in-progress job's refs come from its run's facts (run-facts.ts), never from the job's bare
 * head branch; without those facts the job is read-only on the default branch.
 */
import type { Logger } from "../log.js";
import { denied, type ScopeDecision, type ScopeRequest, type ScopeResolver } from "./decision.js";
import type { DefaultBranches } from "./default-branch.js";
import type { ApiFallback } from "./fallback.js";
import { hintIsNewer, pickHint, type RunHintChoice } from "./hints.js";
import type { JobRecord, JobStore } from "./job-store.js";
import type { BranchProtection } from "./protection.js";
import { jobScopes, unprotectedScopes } from "./refs.js";
import type { RunFactsSource } from "./run-facts.js";
import type { RunScopes } from "./run-scopes.js";
import type { RunStore } from "./run-store.js";

export interface ResolverDeps {
  jobs: JobStore;
  branches: DefaultBranches;
  /** Undefined when no GitHub App is configured: webhooks are then the only source. */
  fallback: ApiFallback | undefined;
  runFacts: RunFactsSource;
  runs: RunStore;
  protection: BranchProtection;
  log: Logger;
  budgetMs: number;
}

export class JobScopeResolver implements ScopeResolver {
  constructor(private readonly deps: ResolverDeps) {}

  async resolve(request: ScopeRequest): Promise<ScopeDecision> {
    const startedAt = Date.now();
    const { runner } = request;
    const recorded = await this.deps.jobs.currentJob(runner);
    const pick = pickHint(request);
    if (pick.hint === null && pick.ignored) {
      this.deps.log.warn(
        {
          event: "run_hint_ignored",
          runner: runner.name,
          runnerId: runner.id,
          repository: runner.repository,
          run: request.runIdHint ?? runner.hint?.runId ?? null,
          reason: pick.reason,
        },
        "run id hint ignored",
      );
    }
    const hint = pick.hint;
    const newer = hint !== null && recorded !== undefined && hintIsNewer(hint, recorded);

    if (recorded?.status === "in_progress" && !newer)
      return this.allowLive(request, recorded, hint, startedAt);
    if (recorded?.status === "completed" && !newer) {
      return this.refuse(
        request,
        "the runner's job has completed and no newer run was reported",
        recorded,
        hint,
      );
    }
    if (hint === null && (pick.ignored || runner.repository === null)) {
      // An organisation runner's jobs may be in any repository: there is none to search.
      const orgRunner = `${pick.reason}; an organisation runner's runs are not searched`;
      return this.refuse(request, pick.ignored ? pick.reason : orgRunner, recorded, null);
    }
    const { fallback } = this.deps;
    if (fallback === undefined) {
      const reason =
        "GitHub App not configured: no webhook recorded this runner's job and GitHub cannot be asked";
      const said = hint === null ? `${pick.reason}; ${reason}` : reason;
      return this.refuse(request, said, recorded, hint);
    }

    const outcome =
      hint === null ? await fallback.search(runner) : await fallback.find(runner, hint);
    if (!outcome.found)
      return this.refuse(request, outcome.reason, recorded, hint, outcome.remembered);
    return this.allowLive(request, outcome.job, hint, startedAt);
  }

  /** Allows the job unless GitHub has shown it to be over or its runner name to be ambiguous. */
  private async allowLive(
    request: ScopeRequest,
    job: JobRecord,
    hint: RunHintChoice | null,
    startedAt: number,
  ): Promise<ScopeDecision> {
    const { runner } = request;
    const latest = await this.deps.jobs.latestAttempt(job);
    if (latest > Number(job.run_attempt)) {
      const reason = `run ${job.run_id} has a newer attempt (${latest}): attempt ${job.run_attempt}'s job is over`;
      return this.refuse(request, reason, job, hint);
    }
    if (runner.repository === null) {
      const running = await this.deps.jobs.repositoriesRunning(runner);
      if (running.length > 1) {
        const reason =
          `runner name ${runner.name} has jobs in progress in ${running.length} repositories ` +
          `(${running.sort().join(", ")}): the name no longer says which job is this runner's`;
        return this.refuse(request, reason, job, hint);
      }
    }
    return this.allow(job, startedAt);
  }

  private async allow(job: JobRecord, startedAt: number): Promise<ScopeDecision> {
    const remainingMs = () => this.deps.budgetMs - (Date.now() - startedAt);
    const installationId = Number(job.installation_id);
    const { branches } = this.deps;
    const defaultBranch = await branches.get(job.repository, installationId, remainingMs());
    const { scopes, event } = await this.scopesOf(job, defaultBranch, remainingMs());
    const fromApi = job.source === "api";
    const found = fromApi
      ? "job in progress, confirmed by GitHub's API"
      : "job in progress, recorded from the workflow_job webhook";
    return {
      repository: job.repository,
      readScopes: scopes.readScopes,
      writeScope: scopes.writeScope,
      reason: `${scopes.reason}; ${found}`,
      job: {
        jobId: Number(job.id),
        runId: Number(job.run_id),
        runAttempt: Number(job.run_attempt),
        repository: job.repository,
        headBranch: job.head_branch,
        source: fromApi ? "api" : "webhook",
        event,
      },
    };
  }

  /**
   * The run's scopes, or the shared scope when the operator turned branch protection off; then
   * only facts already stored name the event, since no question to GitHub can change the answer.
   */
  private async scopesOf(job: JobRecord, defaultBranch: string | null, budgetMs: number) {
    const installationId = Number(job.installation_id);
    const setting = await this.deps.protection.setting(installationId, job.repository);
    if (!setting.enabled) {
      const key = {
        repository: job.repository,
        runId: Number(job.run_id),
        runAttempt: Number(job.run_attempt),
        installationId,
      };
      const event = (await this.deps.runs.run(key))?.event ?? null;
      return { scopes: unprotectedScopes(job.repository, setting, event), event };
    }
    const facts = await this.deps.runFacts.facts(job, budgetMs);
    const scopes: RunScopes = jobScopes(facts, defaultBranch);
    return { scopes, event: facts.known ? facts.facts.event : null };
  }

  /** The fail-closed answer, logged with who asked and why; a remembered failure logs quietly. */
  private refuse(
    request: ScopeRequest,
    reason: string,
    recorded: JobRecord | undefined,
    hint: RunHintChoice | null,
    remembered = false,
  ): ScopeDecision {
    const { runner } = request;
    const repository = hint?.repository ?? recorded?.repository ?? runner.repository;
    this.deps.log[remembered ? "debug" : "warn"](
      {
        event: "scope_unresolved",
        runner: runner.name,
        runnerId: runner.id,
        repository,
        run: hint?.runId ?? (recorded ? Number(recorded.run_id) : null),
        hintSource: hint?.source ?? null,
        remembered,
        reason,
      },
      "runner's job not established: failing closed",
    );
    return denied(reason, repository);
  }
}
