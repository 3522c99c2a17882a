/**
 * Opens the metadata store and brings its schema up to date. SQLite (WAL) is the embedded
 * default; the dialect is the only thing another store has to replace.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from "kysely";
import type { Database } from "./schema.js";
import * as initial from "./migrations/001-initial.js";
import * as runFacts from "./migrations/002-run-facts.js";

/** Versioned migrations, applied in name order at start. */
const MIGRATIONS: Record<string, Migration> = {
  "001-initial": initial,
  "002-run-facts": runFacts,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export type Db = Kysely<Database>;

/** Opens (creating if needed) the SQLite file under the data folder, in WAL mode. */
export function openSqlite(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const file = new SQLite(path.join(dataDir, "gha-cache.sqlite"));
  file.pragma("journal_mode = WAL");
  file.pragma("synchronous = NORMAL");
  file.pragma("foreign_keys = ON");
  // Writers from concurrent requests queue briefly instead of failing with SQLITE_BUSY.
  file.pragma("busy_timeout = 5000");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
}

/** Applies every migration not yet applied; throws with the failing migration's name. */
export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
