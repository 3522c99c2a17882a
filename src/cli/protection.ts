/**
 * `gha-cache protection on|off|list`: the branch-protection switch. On (the default) every job
 * gets the scopes of its run's ref; off, all jobs of a repository share one scope. A running
 * server reads the switch at each decision, so a change counts from the next cache call.
 */
import { REPOSITORY_NAME } from "../identity/runners.js";
import { HELP_OPTION, parseFlags, positiveInteger, required } from "./args.js";
import { EXIT_OK, UsageError, type Command } from "./command.js";
import { withServices } from "./open-services.js";

const SWITCH_OPTIONS = {
  ...HELP_OPTION,
  installation: { type: "string" },
  repository: { type: "string" },
} as const;

function switchUsage(state: "on" | "off"): string {
  return `usage: gha-cache protection ${state} --installation <id> [--repository <owner/name>]

Turns branch protection ${state} for one repository, or for every repository of the installation
when --repository is left out. A repository's own setting wins over its installation's.
${state === "off" ? "Off, every job of the repository reads and writes one shared scope." : "On is the default."}`;
}

function switchCommand(state: "on" | "off"): Command {
  const usage = switchUsage(state);
  return {
    name: `protection ${state}`,
    summary: `turn branch protection ${state} for an installation or repository`,
    usage,
    async run(args) {
      const { values } = parseFlags(args, SWITCH_OPTIONS, 0);
      if (values.help) {
        process.stdout.write(`${usage}\n`);
        return EXIT_OK;
      }
      const installationId = positiveInteger(
        "installation",
        required("installation", values.installation),
      );
      const repository = values.repository ?? null;
      if (repository !== null && !REPOSITORY_NAME.test(repository)) {
        throw new UsageError(`--repository must look like owner/name, got "${repository}"`);
      }
      await withServices((services) =>
        services.protection.set(installationId, repository, state === "on"),
      );
      const what = repository ?? `every repository of installation ${installationId}`;
      process.stdout.write(`branch protection ${state} for ${what}\n`);
      return EXIT_OK;
    },
  };
}

export const protectionOn = switchCommand("on");
export const protectionOff = switchCommand("off");

const listUsage = `usage: gha-cache protection list [--json]

Lists the branch-protection settings an operator made; anything not listed is on.`;

export const protectionList: Command = {
  name: "protection list",
  summary: "list branch-protection settings (anything not listed is on)",
  usage: listUsage,
  async run(args) {
    const { values } = parseFlags(args, { ...HELP_OPTION, json: { type: "boolean" } }, 0);
    if (values.help) {
      process.stdout.write(`${listUsage}\n`);
      return EXIT_OK;
    }
    const rows = await withServices((services) => services.protection.list());
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else if (rows.length === 0) {
      process.stderr.write("no settings: branch protection is on everywhere\n");
    } else {
      for (const row of rows) {
        const where = row.repository ?? "(whole installation)";
        process.stdout.write(`${row.installationId}\t${where}\t${row.enabled ? "on" : "off"}\n`);
      }
    }
    return EXIT_OK;
  },
};
