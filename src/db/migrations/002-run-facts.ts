import type { Kysely } from "kysely";

/**
 * Run facts (what GitHub said about each run attempt), branch and tag pushes (which name is a
 * branch, which a tag), and the operator's branch-protection switch. Column types are the ones
 * PostgreSQL shares with SQLite: bigint for ids and epoch-ms times, text, integer.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("runs")
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("run_id", "bigint", (c) => c.notNull())
    .addColumn("run_attempt", "integer", (c) => c.notNull())
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("head_branch", "text")
    .addColumn("head_sha", "text")
    .addColumn("head_repository", "text")
    // The pull requests GitHub listed on the run, as JSON: candidates, not yet the established one.
    .addColumn("listed_pull_requests", "text", (c) => c.notNull())
    .addColumn("pr_number", "bigint")
    .addColumn("pr_base_ref", "text")
    .addColumn("pr_base_repository", "text")
    // Null while the pull request is not yet established; "none" once it is known there is none.
    .addColumn("pr_source", "text")
    .addColumn("ref_kind", "text")
    .addColumn("ref_kind_source", "text")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("runs_pk", ["repository", "run_id", "run_attempt"])
    .execute();

  await db.schema
    .createTable("pushes")
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("ref", "text", (c) => c.notNull())
    .addColumn("after_sha", "text", (c) => c.notNull())
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("pushes_pk", ["repository", "ref", "after_sha"])
    .execute();
  await db.schema
    .createIndex("pushes_by_commit")
    .on("pushes")
    .columns(["repository", "after_sha"])
    .execute();

  await db.schema
    .createTable("scope_settings")
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    // '' for the whole installation, else `owner/name`.
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("branch_protection", "integer", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("scope_settings_pk", ["installation_id", "repository"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["scope_settings", "pushes", "runs"]) {
    await db.schema.dropTable(table).execute();
  }
}
