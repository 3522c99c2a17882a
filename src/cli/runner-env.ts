/**
 * What a runner needs to reach the service: its token and the variables the cache clients read
 * (see the README, "Pointing a runner at gha-cache"). Printed as an env file so provisioning can
 * redirect it straight into one, or as JSON for programs.
 */
import type { Config } from "../config.js";
import { mintRunnerToken } from "../identity/runner-token.js";
import type { Runner } from "../identity/runners.js";
import { matchesServerKeys } from "../secrets.js";
import type { Services } from "../services.js";
import { CommandFailure } from "./command.js";

const MS_PER_SECOND = 1000;

export interface IssuedToken {
  runner: Runner;
  token: string;
  /** ISO time, or null for a token that lives as long as the runner record. */
  expiresAt: string | null;
  env: Record<string, string>;
}

/**
 * Refuses to mint when the server last started on this data folder signs with another token
 * secret (the CLI was run without the server's GHA_CACHE_TOKEN_SECRET): its tokens would be
 * refused, and the runner would only see 401s.
 */
export function assertServerKeys(services: Services): void {
  if (!matchesServerKeys(services.config.dataDir, services.secrets)) {
    throw new CommandFailure(
      "the server on this data folder uses another token secret: run this command with the " +
        "server's environment (same GHA_CACHE_TOKEN_SECRET, or none if the server has none)",
    );
  }
}

export async function issueToken(
  services: Services,
  runner: Runner,
  expiresInSeconds: number | undefined,
): Promise<IssuedToken> {
  const token = await mintRunnerToken(services.secrets.tokenSecret, {
    runnerId: runner.id,
    expiresInSeconds,
  });
  const expiresAt =
    expiresInSeconds === undefined
      ? null
      : new Date(Date.now() + expiresInSeconds * MS_PER_SECOND).toISOString();
  return { runner, token, expiresAt, env: runnerEnv(services.config, token) };
}

/**
 * v1 clients append `_apis/artifactcache/` to ACTIONS_CACHE_URL, so it needs its trailing slash;
 * v2 clients resolve `/twirp/...` against ACTIONS_RESULTS_URL's origin. The V2 switch must be the
 * string "true": buildkit and go-actions-cache parse it as a boolean.
 */
export function runnerEnv(config: Config, token: string): Record<string, string> {
  const base = `${config.publicUrl}/`;
  return {
    ACTIONS_CACHE_URL: base,
    ACTIONS_RESULTS_URL: base,
    ACTIONS_CACHE_SERVICE_V2: "true",
    ACTIONS_RUNTIME_TOKEN: token,
  };
}

export function printIssued(issued: IssuedToken, json: boolean, config: Config): void {
  if (!config.publicUrlConfigured) {
    process.stderr.write(
      `gha-cache: GHA_CACHE_PUBLIC_URL is not set; ${config.publicUrl} only works for a runner on this machine\n`,
    );
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ...issued, runner: describeRunner(issued.runner) }, null, 2)}\n`,
    );
    return;
  }
  const { runner } = issued;
  const lines = [
    `# gha-cache runner ${runner.name} (id ${runner.id}), installation ${runner.installationId}, ` +
      `repository ${runner.repository ?? "any (organisation runner)"}`,
    `# token ${issued.expiresAt === null ? "valid until the runner is removed" : `expires ${issued.expiresAt}`}`,
    ...Object.entries(issued.env).map(([name, value]) => `${name}=${value}`),
    "# A stock runner overwrites these for JavaScript actions: those need a runner build that takes",
    "# the cache URL from a custom variable (`gha-cache runner setup` prints those lines).",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** The runner as printed: never any credential, times as ISO strings. */
export function describeRunner(runner: Runner): Record<string, unknown> {
  return {
    id: runner.id,
    name: runner.name,
    repository: runner.repository,
    installationId: runner.installationId,
    createdAt: new Date(runner.createdAt).toISOString(),
  };
}
