/**
 * `gha-cache runner remove`: deletes a runner record; every token it was given stops working at
 * once, since each call looks the record up.
 */
import { HELP_OPTION, parseFlags } from "./args.js";
import { CommandFailure, EXIT_OK, UsageError, type Command } from "./command.js";
import { findRunner } from "./find-runner.js";
import { withServices } from "./open-services.js";

const usage = `usage: gha-cache runner remove <id|name>

Removes a runner; its tokens are refused from then on. A name shared by runners of several
installations is refused: give the id (see gha-cache runner list).`;

export const runnerRemove: Command = {
  name: "runner remove",
  summary: "remove a runner; its tokens stop working",
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...HELP_OPTION }, 1);
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const [idOrName] = positionals;
    if (idOrName === undefined) throw new UsageError("give the runner's id or name");

    return withServices(async (services) => {
      const runner = await findRunner(services.runners, idOrName);
      // By id: the name may belong to runners of other installations too.
      if ((await services.runners.remove(runner.id)) === 0) {
        throw new CommandFailure(`runner ${runner.id} was removed by someone else meanwhile`);
      }
      process.stdout.write(`removed runner ${runner.name} (id ${runner.id})\n`);
      return EXIT_OK;
    });
  },
};
