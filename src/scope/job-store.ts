/**
 * What the service knows about jobs and repositories, as recorded from GitHub (webhook events or
 * API answers). The resolver reads a runner's current job from here.
 */
import type { Db } from "../db/database.js";
import type { JobStatus, JobTable } from "../db/schema.js";
import type { Runner } from "../identity/runners.js";

export const STATUS_RANK: Record<JobStatus, number> = {
  queued: 0,
  waiting: 1,
  in_progress: 2,
  completed: 3,
};

export type JobRecord = JobTable;

export class JobStore {
  constructor(private readonly db: Db) {}

  /**
   * The runner's latest job: the one GitHub started most recently on a runner of this name in
   * the runner's installation (and repository, for a repository runner).
   */
  async currentJob(runner: Runner): Promise<JobRecord | undefined> {
    let query = this.db
      .selectFrom("jobs")
      .selectAll()
      .where("installation_id", "=", runner.installationId)
      .where("runner_name", "=", runner.name);
    if (runner.repository !== null) query = query.where("repository", "=", runner.repository);
    // Missing for PostgreSQL: NULLS LAST here (SQLite already sorts nulls last in DESC order).
    return query.orderBy("started_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
  }

  /**
   * Repositories in which a job is in progress on a runner of this name in the installation. An
   * organisation runner's name can also be given to a repository-level runner by that
   * repository's admin: more than one repository here means the name no longer tells them apart.
   */
  async repositoriesRunning(runner: Runner): Promise<string[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .select("repository")
      .distinct()
      .where("installation_id", "=", runner.installationId)
      .where("runner_name", "=", runner.name)
      .where("status", "=", "in_progress")
      .execute();
    return rows.map((row) => row.repository);
  }

  /**
   * The newest attempt GitHub has shown of the job's run (from its jobs or its run facts). A job
   * of an older attempt is over, even when its `completed` event never arrived.
   */
  async latestAttempt(job: JobRecord): Promise<number> {
    const [jobs, runs] = await Promise.all([
      this.db
        .selectFrom("jobs")
        .select((eb) => eb.fn.max("run_attempt").as("attempt"))
        .where("repository", "=", job.repository)
        .where("run_id", "=", job.run_id)
        .executeTakeFirst(),
      this.db
        .selectFrom("runs")
        .select((eb) => eb.fn.max("run_attempt").as("attempt"))
        .where("repository", "=", job.repository)
        .where("run_id", "=", job.run_id)
        .executeTakeFirst(),
    ]);
    return Math.max(
      Number(job.run_attempt),
      Number(jobs?.attempt ?? 0),
      Number(runs?.attempt ?? 0),
    );
  }

  async job(id: number): Promise<JobRecord | undefined> {
    return this.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * Records a job, never moving its status backwards: a late `in_progress` after `completed`
   * changes nothing, and a duplicate changes nothing.
   */
  async record(job: JobRecord): Promise<void> {
    await this.db
      .insertInto("jobs")
      .values(job)
      .onConflict((oc) =>
        oc
          .column("id")
          .doUpdateSet((eb) => ({
            status: eb.ref("excluded.status"),
            status_rank: eb.ref("excluded.status_rank"),
            runner_name: eb.fn.coalesce("excluded.runner_name", "jobs.runner_name"),
            head_branch: eb.fn.coalesce("excluded.head_branch", "jobs.head_branch"),
            head_sha: eb.fn.coalesce("excluded.head_sha", "jobs.head_sha"),
            started_at: eb.fn.coalesce("excluded.started_at", "jobs.started_at"),
            completed_at: eb.fn.coalesce("excluded.completed_at", "jobs.completed_at"),
            updated_at: eb.ref("excluded.updated_at"),
            source: eb.ref("excluded.source"),
          }))
          .where("jobs.status_rank", "<", (eb) => eb.ref("excluded.status_rank")),
      )
      .execute();
  }

  async defaultBranch(repository: string): Promise<string | null> {
    const row = await this.db
      .selectFrom("repositories")
      .select("default_branch")
      .where("full_name", "=", repository)
      .executeTakeFirst();
    return row?.default_branch ?? null;
  }

  async recordRepository(
    fullName: string,
    installationId: number,
    defaultBranch: string | null,
  ): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto("repositories")
      .values({
        full_name: fullName,
        installation_id: installationId,
        default_branch: defaultBranch,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.column("full_name").doUpdateSet((eb) => ({
          installation_id: eb.ref("excluded.installation_id"),
          default_branch: eb.fn.coalesce("excluded.default_branch", "repositories.default_branch"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .execute();
  }
}
