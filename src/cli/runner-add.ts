/**
 * `gha-cache runner add`: registers a runner and prints its token and environment.
 */
import { expiresInOf, HELP_OPTION, parseFlags, positiveInteger, required } from "./args.js";
import { EXIT_OK, type Command } from "./command.js";
import { withServices } from "./open-services.js";
import { assertServerKeys, issueToken, printIssued } from "./runner-env.js";

const usage = `usage: gha-cache runner add --name <runner name> --installation <id> [options]

Registers a runner and prints the environment it needs, token included.

  --name <name>           the runner's name as GitHub knows it (runner_name in workflow_job)
  --installation <id>     the GitHub App installation id of the runner's organisation or account
  --repository <o/name>   the repository it serves; omit for an organisation runner
  --expires-in <seconds>  let the token expire; by default it lives as long as the runner record
  --json                  print JSON instead of env-file lines`;

export const runnerAdd: Command = {
  name: "runner add",
  summary: "register a runner and print its token and environment",
  usage,
  async run(args) {
    const { values } = parseFlags(
      args,
      {
        ...HELP_OPTION,
        name: { type: "string" },
        installation: { type: "string" },
        repository: { type: "string" },
        "expires-in": { type: "string" },
        json: { type: "boolean" },
      },
      0,
    );
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const name = required("name", values.name);
    const installationId = positiveInteger(
      "installation",
      required("installation", values.installation),
    );
    const expiresInSeconds = expiresInOf(values);

    return withServices(async (services, config) => {
      assertServerKeys(services);
      const runner = await services.runners.register({
        name,
        repository: values.repository ?? null,
        installationId,
      });
      printIssued(
        await issueToken(services, runner, expiresInSeconds),
        values.json === true,
        config,
      );
      return EXIT_OK;
    });
  },
};
