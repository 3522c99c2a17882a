/**
 * What every CLI command is, and how its outcome maps to an exit code. Scripts (autoscalers,
 * provisioning) branch on the code: 2 means "you called it wrong", 1 "it could not be done".
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Command {
  /** The words that select it, e.g. "runner add". */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Synopsis and options, printed by `--help` and after a usage error. */
  usage: string;
  run(args: string[]): Promise<number>;
}

/** The command line itself is wrong: a missing, unknown or malformed flag or argument. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The command was well formed but cannot be carried out (an unknown runner, say). */
export class CommandFailure extends Error {
  override readonly name = "CommandFailure";
}
