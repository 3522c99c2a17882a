/**
 * Flag parsing for the commands, on node:util parseArgs in strict mode: an unknown flag, a flag
 * without its value or a stray argument is a UsageError, never silently ignored.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./command.js";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** Every command takes --help (-h). */
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

export function parseFlags<O extends OptionsConfig>(
  args: string[],
  options: O,
  maxPositionals: number,
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("ERR_PARSE_ARGS")) throw new UsageError((error as Error).message);
    throw error;
  }
  const extra = parsed.positionals[maxPositionals];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return parsed;
}

/** A flag value that must be a positive whole number (ids, seconds). */
export function positiveInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value === 0) {
    throw new UsageError(`--${flag} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

export function required<T>(flag: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${flag} is required`);
  return value;
}

/** `--expires-in <seconds>`, which the commands that mint tokens share; undefined when absent. */
export function expiresInOf(values: { "expires-in"?: string | boolean }): number | undefined {
  const raw = values["expires-in"];
  return typeof raw === "string" ? positiveInteger("expires-in", raw) : undefined;
}
