/**
 * The runner registry: who may hold a runtime token. A record names the runner as GitHub knows
 * it, its repository (null for an organisation runner) and the GitHub App installation.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.js";
import type { RunnerTable } from "../db/schema.js";
import { badRequest, conflict } from "../errors.js";
import { isUniqueViolation } from "../db/errors.js";

export interface Runner {
  id: string;
  name: string;
  repository: string | null;
  installationId: number;
  createdAt: number;
  hint: RunHint | null;
}

/** A job-start report: the run the runner says it is working on. Unproven until GitHub agrees. */
export interface RunHint {
  repository: string;
  runId: number;
  runAttempt: number | null;
  at: number;
}

export interface NewRunner {
  name: string;
  repository: string | null;
  installationId: number;
}

/** GitHub runner names: letters, digits and . _ - (no spaces), up to 64 characters. */
const RUNNER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** `owner/name` as GitHub allows them. */
export const REPOSITORY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

export function validateNewRunner(input: NewRunner): void {
  if (!RUNNER_NAME.test(input.name)) {
    throw badRequest("runner name must be 1-64 letters, digits, '.', '_' or '-'");
  }
  if (input.repository !== null && !REPOSITORY_NAME.test(input.repository)) {
    throw badRequest("repository must look like owner/name");
  }
  if (!Number.isSafeInteger(input.installationId) || input.installationId <= 0) {
    throw badRequest("installation id must be a positive whole number");
  }
}

export class RunnerRegistry {
  constructor(private readonly db: Db) {}

  async register(input: NewRunner): Promise<Runner> {
    validateNewRunner(input);
    const row: RunnerTable = {
      id: randomUUID(),
      name: input.name,
      repository: input.repository,
      installation_id: input.installationId,
      created_at: Date.now(),
      hint_repository: null,
      hint_run_id: null,
      hint_run_attempt: null,
      hint_at: null,
    };
    try {
      await this.db.insertInto("runners").values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw conflict(
          `a runner named ${input.name} is already registered for that installation and repository`,
        );
      }
      throw error;
    }
    return toRunner(row);
  }

  async get(id: string): Promise<Runner | undefined> {
    const row = await this.db
      .selectFrom("runners")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row && toRunner(row);
  }

  async list(): Promise<Runner[]> {
    const rows = await this.db.selectFrom("runners").selectAll().orderBy("created_at").execute();
    return rows.map(toRunner);
  }

  /** Removes a runner by id or name; its tokens stop working at once. Returns how many went. */
  async remove(idOrName: string): Promise<number> {
    const result = await this.db
      .deleteFrom("runners")
      .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recordHint(runnerId: string, hint: Omit<RunHint, "at">): Promise<void> {
    await this.db
      .updateTable("runners")
      .set({
        hint_repository: hint.repository,
        hint_run_id: hint.runId,
        hint_run_attempt: hint.runAttempt,
        hint_at: Date.now(),
      })
      .where("id", "=", runnerId)
      .execute();
  }
}

function toRunner(row: RunnerTable): Runner {
  return {
    id: row.id,
    name: row.name,
    repository: row.repository,
    installationId: Number(row.installation_id),
    createdAt: Number(row.created_at),
    hint:
      row.hint_run_id !== null && row.hint_repository !== null && row.hint_at !== null
        ? {
            repository: row.hint_repository,
            runId: Number(row.hint_run_id),
            runAttempt: row.hint_run_attempt === null ? null : Number(row.hint_run_attempt),
            at: Number(row.hint_at),
          }
        : null,
  };
}
