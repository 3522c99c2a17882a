/**
 * `gha-cache runner list`: the registered runners, without any token (tokens are not stored).
 */
import { HELP_OPTION, parseFlags } from "./args.js";
import { EXIT_OK, type Command } from "./command.js";
import { withServices } from "./open-services.js";
import { describeRunner } from "./runner-env.js";

const usage = `usage: gha-cache runner list [--json]

Lists the registered runners: id, name, repository, installation, registration time.`;

const COLUMNS = ["id", "name", "repository", "installationId", "createdAt"] as const;
const HEADERS = ["ID", "NAME", "REPOSITORY", "INSTALLATION", "CREATED"];
const COLUMN_GAP = "  ";

export const runnerList: Command = {
  name: "runner list",
  summary: "list the registered runners (no tokens)",
  usage,
  async run(args) {
    const { values } = parseFlags(args, { ...HELP_OPTION, json: { type: "boolean" } }, 0);
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const runners = await withServices(async (services) =>
      (await services.runners.list()).map(describeRunner),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(runners, null, 2)}\n`);
    } else if (runners.length === 0) {
      process.stderr.write("no runners registered (add one with: gha-cache runner add)\n");
    } else {
      const rows = runners.map((runner) =>
        COLUMNS.map((column) => String(runner[column] ?? "(organisation)")),
      );
      process.stdout.write(table([HEADERS, ...rows]));
    }
    return EXIT_OK;
  },
};

function table(rows: string[][]): string {
  const widths = HEADERS.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join(COLUMN_GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}
