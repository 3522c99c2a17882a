/**
 * `gha-cache runner setup`: the exact environment lines for a runner, for each way a runner can
 * reach the service (README, "Runner setup"). It mints a fresh token for the first setup.
 *
 * 1. v1, the runner token in the cache URL: a runner build that gives actions ACTIONS_CACHE_URL
 *    from CUSTOM_ACTIONS_CACHE_URL, and leaves ACTIONS_CACHE_SERVICE_V2 unset so clients speak
 *    v1; GitHub's token and ACTIONS_RESULTS_URL stay as they are (artifacts keep working).
 * 2. v2 with GitHub's own token: a runner build that gives actions ACTIONS_RESULTS_URL from
 *    CUSTOM_ACTIONS_RESULTS_URL; the server verifies GitHub's token and passes artifact calls on.
 */
import type { Config } from "../config.js";
import { PATH_CREDENTIAL_PREFIX } from "../identity/credential.js";
import { mintRunnerToken } from "../identity/runner-token.js";
import type { Runner } from "../identity/runners.js";
import { expiresInOf, HELP_OPTION, parseFlags } from "./args.js";
import { EXIT_OK, UsageError, type Command } from "./command.js";
import { withNamedRunner } from "./find-runner.js";

/** Where the hook script is installed on the runner unless --hook-path says otherwise. */
const DEFAULT_HOOK_PATH = "/opt/gha-cache/job-started-hook.sh";
/** `/r` of `/r/:credential`: the URL form the runner token travels in. */
const PATH_CREDENTIAL_BASE = PATH_CREDENTIAL_PREFIX.replace(/\/:[^/]+$/, "");

const usage = `usage: gha-cache runner setup <id|name> [--hook-path <path>] [--expires-in <seconds>]

Mints a new token for a registered runner and prints its environment lines for each setup:
v1 with the token in the cache URL (plus the job-started hook), and v2 with GitHub's own token.

  --hook-path <path>      where scripts/job-started-hook.sh is on the runner
                          (default ${DEFAULT_HOOK_PATH})
  --expires-in <seconds>  let the token expire; by default it lives as long as the runner record`;

/** The lines for both setups; `token` is the runner's, and appears only in the first setup. */
export function setupLines(
  config: Config,
  runner: Runner,
  token: string,
  hookPath: string,
): string[] {
  const origin = config.publicUrl;
  const githubToken =
    config.githubToken === undefined
      ? "NOT configured: set GHA_CACHE_GITHUB_TOKEN_JWKS_URL, _ISSUER and _REPOSITORY_CLAIM"
      : "configured";
  const upstream =
    config.resultsUpstreamUrl === undefined
      ? "NOT configured: set GHA_CACHE_RESULTS_UPSTREAM_URL or artifact steps fail"
      : `passed on to ${config.resultsUpstreamUrl}`;
  return [
    `# gha-cache runner ${runner.name} (id ${runner.id}); the lines below hold a secret token`,
    "",
    "# Setup 1: v1, runner token in the cache URL. The runner build gives actions",
    "# ACTIONS_CACHE_URL=$CUSTOM_ACTIONS_CACHE_URL and leaves ACTIONS_CACHE_SERVICE_V2 unset.",
    `CUSTOM_ACTIONS_CACHE_URL=${origin}${PATH_CREDENTIAL_BASE}/${token}/`,
    `ACTIONS_RUNNER_HOOK_JOB_STARTED=${hookPath}`,
    "",
    "# Setup 2: v2 with GitHub's own token (no runner token). The runner build gives actions",
    "# ACTIONS_RESULTS_URL=$CUSTOM_ACTIONS_RESULTS_URL; GitHub's ACTIONS_RUNTIME_TOKEN stays.",
    `# Server: GitHub-token verification ${githubToken}; artifact calls ${upstream}.`,
    `CUSTOM_ACTIONS_RESULTS_URL=${origin}/`,
  ];
}

export const runnerSetup: Command = {
  name: "runner setup",
  summary: "print a runner's environment lines for each setup (v1 token URL, v2 GitHub token)",
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      { ...HELP_OPTION, "hook-path": { type: "string" }, "expires-in": { type: "string" } },
      1,
    );
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const [idOrName] = positionals;
    if (idOrName === undefined) throw new UsageError("give the runner's id or name");
    const expiresInSeconds = expiresInOf(values);
    const hookPath = values["hook-path"] ?? DEFAULT_HOOK_PATH;

    return withNamedRunner(idOrName, async (runner, services, config) => {
      const token = await mintRunnerToken(services.secrets.tokenSecret, {
        runnerId: runner.id,
        expiresInSeconds,
      });
      process.stdout.write(`${setupLines(config, runner, token, hookPath).join("\n")}\n`);
      return EXIT_OK;
    });
  },
};
