/**
 * The operator's branch-protection switch. On (the default), each job gets the scopes of its
 * run's ref; off, every job of the repository shares one scope, as a team that trusts all its
 * branches may prefer. A repository's own setting wins over its installation's.
 */
import type { Db } from "../db/database.js";

/** The stored repository of an installation-wide setting. */
const WHOLE_INSTALLATION = "";
const ON = 1;
const OFF = 0;

export interface ProtectionSetting {
  enabled: boolean;
  /** Which setting decided: the repository's, the installation's, or none (the default, on). */
  decidedBy: "repository" | "installation" | "default";
}

export interface ProtectionRow {
  installationId: number;
  /** Null for the installation-wide setting. */
  repository: string | null;
  enabled: boolean;
  updatedAt: number;
}

export class BranchProtection {
  constructor(private readonly db: Db) {}

  async setting(installationId: number, repository: string): Promise<ProtectionSetting> {
    const rows = await this.db
      .selectFrom("scope_settings")
      .select(["repository", "branch_protection"])
      .where("installation_id", "=", installationId)
      .where("repository", "in", [repository, WHOLE_INSTALLATION])
      .execute();
    const own = rows.find((row) => row.repository === repository);
    if (own) return { enabled: Number(own.branch_protection) !== OFF, decidedBy: "repository" };
    const whole = rows.find((row) => row.repository === WHOLE_INSTALLATION);
    if (whole)
      return { enabled: Number(whole.branch_protection) !== OFF, decidedBy: "installation" };
    return { enabled: true, decidedBy: "default" };
  }

  /** Sets the switch for a repository, or for the whole installation when `repository` is null. */
  async set(installationId: number, repository: string | null, enabled: boolean): Promise<void> {
    const values = {
      installation_id: installationId,
      repository: repository ?? WHOLE_INSTALLATION,
      branch_protection: enabled ? ON : OFF,
      updated_at: Date.now(),
    };
    await this.db
      .insertInto("scope_settings")
      .values(values)
      .onConflict((oc) =>
        oc.columns(["installation_id", "repository"]).doUpdateSet({
          branch_protection: values.branch_protection,
          updated_at: values.updated_at,
        }),
      )
      .execute();
  }

  async list(): Promise<ProtectionRow[]> {
    const rows = await this.db
      .selectFrom("scope_settings")
      .selectAll()
      .orderBy("installation_id")
      .orderBy("repository")
      .execute();
    return rows.map((row) => ({
      installationId: Number(row.installation_id),
      repository: row.repository === WHOLE_INSTALLATION ? null : row.repository,
      enabled: Number(row.branch_protection) !== OFF,
      updatedAt: Number(row.updated_at),
    }));
  }
}
