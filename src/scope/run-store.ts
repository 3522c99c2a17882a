/**
 * What the service has recorded about runs and pushes: one row per run attempt (from the
 * workflow_run webhook or GitHub's API), and the branch and tag pushes the `push` webhook
 * reported. Facts are kept per installation: a row serves only jobs of the installation that
 * told us, so one installation's webhooks never decide another's scopes.
 */
import type { Db } from "../db/database.js";
import type { RunTable } from "../db/schema.js";
import type { ListedPullRequest } from "../github/shapes.js";
import type { PullRequestFacts, RefKind } from "./run-scopes.js";

export type RunRecord = RunTable;

export interface RunKey {
  repository: string;
  runId: number;
  runAttempt: number;
  installationId: number;
}

/** The run as GitHub reported it, before its pull request and ref kind are established. */
export interface ReportedRun extends RunKey {
  event: string;
  headBranch: string | null;
  headSha: string | null;
  headRepository: string | null;
  listedPullRequests: ListedPullRequest[];
  source: "webhook" | "api";
}

export type PullRequestSource = "run" | "pulls_api" | "none";
export type RefKindSource = "push_webhook" | "git_refs_api" | "event";

export class RunStore {
  constructor(private readonly db: Db) {}

  async run(key: RunKey): Promise<RunRecord | undefined> {
    return this.db
      .selectFrom("runs")
      .selectAll()
      .where("repository", "=", key.repository)
      .where("run_id", "=", key.runId)
      .where("run_attempt", "=", key.runAttempt)
      .where("installation_id", "=", key.installationId)
      .executeTakeFirst();
  }

  /**
   * Records what GitHub reported about a run attempt. Another delivery for the same attempt
   * refreshes the reported fields but keeps what was already established from them; a row of
   * another installation is left alone. Attempts are separate rows, so an older attempt's late
   * webhook can never change a newer attempt's facts.
   */
  async record(run: ReportedRun): Promise<void> {
    const reported = {
      event: run.event,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      head_repository: run.headRepository,
      listed_pull_requests: JSON.stringify(run.listedPullRequests),
      source: run.source,
      updated_at: Date.now(),
    };
    await this.db
      .insertInto("runs")
      .values({
        repository: run.repository,
        run_id: run.runId,
        run_attempt: run.runAttempt,
        installation_id: run.installationId,
        ...reported,
        pr_number: null,
        pr_base_ref: null,
        pr_base_repository: null,
        pr_source: null,
        ref_kind: null,
        ref_kind_source: null,
      })
      .onConflict((oc) =>
        oc
          .columns(["repository", "run_id", "run_attempt"])
          .doUpdateSet(reported)
          .where("runs.installation_id", "=", run.installationId),
      )
      .execute();
  }

  async setPullRequest(
    key: RunKey,
    pr: PullRequestFacts | null,
    source: PullRequestSource,
  ): Promise<void> {
    await this.update(key, {
      pr_number: pr?.number ?? null,
      pr_base_ref: pr?.baseRef ?? null,
      pr_base_repository: pr?.baseRepository ?? null,
      pr_source: source,
    });
  }

  async setRefKind(key: RunKey, kind: RefKind, source: RefKindSource): Promise<void> {
    await this.update(key, { ref_kind: kind, ref_kind_source: source });
  }

  /** Records a branch or tag push: `ref` now points at `afterSha`. */
  async recordPush(
    repository: string,
    ref: string,
    afterSha: string,
    installationId: number,
  ): Promise<void> {
    await this.db
      .insertInto("pushes")
      .values({
        repository,
        ref,
        after_sha: afterSha,
        installation_id: installationId,
        received_at: Date.now(),
      })
      .onConflict((oc) =>
        oc.columns(["repository", "ref", "after_sha"]).doUpdateSet({ received_at: Date.now() }),
      )
      .execute();
  }

  /** Which of `refs` were pushed to exactly `sha`, as this installation's webhooks reported. */
  async pushedAt(
    repository: string,
    installationId: number,
    refs: string[],
    sha: string,
  ): Promise<string[]> {
    const rows = await this.db
      .selectFrom("pushes")
      .select("ref")
      .where("repository", "=", repository)
      .where("after_sha", "=", sha)
      .where("installation_id", "=", installationId)
      .where("ref", "in", refs)
      .execute();
    return rows.map((row) => row.ref);
  }

  private async update(key: RunKey, values: Partial<RunRecord>): Promise<void> {
    await this.db
      .updateTable("runs")
      .set({ ...values, updated_at: Date.now() })
      .where("repository", "=", key.repository)
      .where("run_id", "=", key.runId)
      .where("run_attempt", "=", key.runAttempt)
      .where("installation_id", "=", key.installationId)
      .execute();
  }
}
