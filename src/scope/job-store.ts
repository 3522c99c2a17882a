/**
 * What the service knows about jobs and repositories, as recorded from GitHub (webhook events or
 * API answers). The resolver reads a runner's current job from here.
 */
import type { Db } from "../db/database.js";
import type { JobStatus, JobTable } from "../db/schema.js";
import type { Runner } from "../identity/runners.js";

export const STATUS_RANK: Record<JobStatus, number> = { queued: 0, waiting: 1, in_progress: 2, completed: 3 };

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
    return query.orderBy("started_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
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

  async recordRepository(fullName: string, installationId: number, defaultBranch: string | null): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto("repositories")
      .values({ full_name: fullName, installation_id: installationId, default_branch: defaultBranch, updated_at: now })
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
