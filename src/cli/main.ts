#!/usr/bin/env node
/**
 * The gha-cache command line: picks the command from the first words and maps its outcome to an
 * exit code (0 done, 1 could not be done, 2 called wrong or misconfigured).
 */
import { ConfigError } from "../config.js";
import { ServiceError } from "../errors.js";
import {
  CommandFailure,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  type Command,
} from "./command.js";
import { protectionList, protectionOff, protectionOn } from "./protection.js";
import { runnerAdd } from "./runner-add.js";
import { runnerList } from "./runner-list.js";
import { runnerRemove } from "./runner-remove.js";
import { runnerSetup } from "./runner-setup.js";
import { runnerToken } from "./runner-token.js";
import { serve } from "./serve.js";

const COMMANDS: Command[] = [
  serve,
  runnerAdd,
  runnerList,
  runnerRemove,
  runnerToken,
  runnerSetup,
  protectionOn,
  protectionOff,
  protectionList,
];
const HELP_WORDS = new Set(["help", "--help", "-h"]);
const HELP_ENTRY = { name: "help [command]", summary: "show this list, or one command's options" };

function overview(): string {
  const entries = [...COMMANDS, HELP_ENTRY];
  const width = Math.max(...entries.map((entry) => entry.name.length));
  return [
    "usage: gha-cache <command> [options]",
    "",
    "commands:",
    ...entries.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`),
    "",
    "Configuration comes from GHA_CACHE_* environment variables (see the README).",
  ].join("\n");
}

/** The command named by the leading words of argv, and the arguments left for it. */
function select(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const command of COMMANDS) {
    const words = command.name.split(" ");
    const matches = words.every((word, index) => argv[index] === word);
    if (matches) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

function help(topic: string[]): number {
  const chosen = topic.length === 0 ? undefined : select(topic);
  // `help runner` names a group of commands: show the usage of each.
  const group = COMMANDS.filter(
    (command) => topic.length > 0 && command.name.split(" ")[0] === topic[0],
  );
  if (chosen === undefined && topic.length === 1 && group.length > 0) {
    process.stdout.write(`${group.map((command) => command.usage).join("\n\n")}\n`);
    return EXIT_OK;
  }
  if (topic.length > 0 && chosen === undefined) {
    process.stderr.write(`gha-cache: no command "${topic.join(" ")}"\n\n${overview()}\n`);
    return EXIT_USAGE;
  }
  process.stdout.write(`${chosen ? chosen.command.usage : overview()}\n`);
  return EXIT_OK;
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first !== undefined && HELP_WORDS.has(first)) return help(argv.slice(1));
  const chosen = select(argv);
  if (chosen === undefined) {
    const what =
      first === undefined ? "no command given" : `unknown command "${argv.slice(0, 2).join(" ")}"`;
    process.stderr.write(`gha-cache: ${what}\n\n${overview()}\n`);
    return EXIT_USAGE;
  }
  const { command, rest } = chosen;
  try {
    return await command.run(rest);
  } catch (error) {
    return report(command, error);
  }
}

/** Known failures get one clear line; anything else is a bug and keeps its stack. */
function report(command: Command, error: unknown): number {
  const prefix = `gha-cache ${command.name}`;
  if (error instanceof UsageError) {
    const synopsis = command.usage.split("\n")[0];
    process.stderr.write(
      `${prefix}: ${error.message}\n${synopsis}\n(see: gha-cache help ${command.name})\n`,
    );
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`gha-cache: ${error.message}\n`);
    return EXIT_USAGE;
  }
  // A refused input (bad runner name, repository) is the caller's mistake, like a bad flag.
  if (error instanceof ServiceError) {
    process.stderr.write(`${prefix}: ${error.message}\n`);
    return error.code === "bad_request" ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (error instanceof CommandFailure) {
    process.stderr.write(`${prefix}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  // System errors (port in use, unwritable data folder) say enough without a stack.
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text =
    typeof code === "string"
      ? (error as Error).message
      : ((error as Error)?.stack ?? String(error));
  process.stderr.write(`${prefix}: ${text}\n`);
  return EXIT_FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gha-cache: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
