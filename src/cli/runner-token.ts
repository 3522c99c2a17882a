/**
 * `gha-cache runner token`: mints a new token for a registered runner (a rebuilt VM, a lost env
 * file). Tokens are not stored, so earlier ones stay valid until they expire or the runner is
 * removed.
 */
import { expiresInOf, HELP_OPTION, parseFlags } from "./args.js";
import { EXIT_OK, UsageError, type Command } from "./command.js";
import { withNamedRunner } from "./find-runner.js";
import { issueToken, printIssued } from "./runner-env.js";

const usage = `usage: gha-cache runner token <id|name> [--expires-in <seconds>] [--json]

Mints a new token for a registered runner and prints its environment. Earlier tokens stay valid
until they expire or the runner is removed.

  --expires-in <seconds>  let the token expire; by default it lives as long as the runner record
  --json                  print JSON instead of env-file lines`;

export const runnerToken: Command = {
  name: "runner token",
  summary: "mint a new token for a registered runner",
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      { ...HELP_OPTION, "expires-in": { type: "string" }, json: { type: "boolean" } },
      1,
    );
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const [idOrName] = positionals;
    if (idOrName === undefined) throw new UsageError("give the runner's id or name");
    const expiresInSeconds = expiresInOf(values);

    return withNamedRunner(idOrName, async (runner, services, config) => {
      printIssued(
        await issueToken(services, runner, expiresInSeconds),
        values.json === true,
        config,
      );
      return EXIT_OK;
    });
  },
};
