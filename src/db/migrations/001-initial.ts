import { sql, type Kysely } from "kysely";

/** The first schema: runners, what GitHub told us about jobs, and cache entries with their parts. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("runners")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("repository", "text")
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("hint_repository", "text")
    .addColumn("hint_run_id", "bigint")
    .addColumn("hint_run_attempt", "integer")
    .addColumn("hint_at", "bigint")
    .execute();
  // One record per runner name in an installation and repository; org runners use ''.
  await sql`create unique index runners_identity on runners
    (installation_id, coalesce(repository, ''), name)`.execute(db);

  await db.schema
    .createTable("repositories")
    .addColumn("full_name", "text", (c) => c.primaryKey())
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    .addColumn("default_branch", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("jobs")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("run_id", "bigint", (c) => c.notNull())
    .addColumn("run_attempt", "integer", (c) => c.notNull())
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("installation_id", "bigint", (c) => c.notNull())
    .addColumn("runner_name", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_rank", "integer", (c) => c.notNull())
    .addColumn("head_branch", "text")
    .addColumn("head_sha", "text")
    .addColumn("workflow_name", "text")
    .addColumn("started_at", "bigint")
    .addColumn("completed_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("jobs_by_runner")
    .on("jobs")
    .columns(["installation_id", "runner_name", "started_at"])
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("cache_entries")
    // Missing for PostgreSQL: an identity column instead of SQLite's integer autoincrement.
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("declared_size", "bigint")
    .addColumn("size", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("committed_at", "bigint")
    .addColumn("last_upload_at", "bigint", (c) => c.notNull())
    .addColumn("last_accessed_at", "bigint")
    .addColumn("last_accessed_by", "text")
    .addColumn("created_by_runner", "text", (c) => c.notNull())
    .addColumn("created_by_job", "bigint")
    .execute();
  // The unique constraint, not a check-then-insert, keeps (repository, scope, key, version)
  // unique; its column order also serves the exact and prefix lookups.
  await db.schema
    .createIndex("cache_entries_identity")
    .on("cache_entries")
    .columns(["repository", "scope", "version", "key"])
    .unique()
    .execute();
  await db.schema
    .createIndex("cache_entries_by_upload_activity")
    .on("cache_entries")
    .columns(["state", "last_upload_at"])
    .execute();

  await db.schema
    .createTable("entry_parts")
    .addColumn("entry_id", "integer", (c) =>
      c.notNull().references("cache_entries.id").onDelete("cascade"),
    )
    .addColumn("offset", "bigint", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("blob_name", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("entry_parts_pk", ["entry_id", "offset"])
    .execute();

  await db.schema
    .createTable("staged_blocks")
    .addColumn("entry_id", "integer", (c) =>
      c.notNull().references("cache_entries.id").onDelete("cascade"),
    )
    .addColumn("block_id", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("blob_name", "text", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("staged_blocks_pk", ["entry_id", "block_id"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "staged_blocks",
    "entry_parts",
    "cache_entries",
    "webhook_deliveries",
    "jobs",
    "repositories",
    "runners",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
