/**
 * The official cache clients report through @actions/core, which writes workflow commands
 * (`::warning::...`) and info lines to stdout instead of throwing. Tests capture those lines to
 * read why a save or restore did what it did.
 */

export interface ClientOutcome<T> {
  value: T;
  /** What the client printed: workflow commands (`::warning::...`) and info lines. */
  output: string[];
}

/** Runs `action`, keeping the string lines it writes to stdout out of the test runner's report. */
export async function captureClientOutput<T>(action: () => Promise<T>): Promise<ClientOutcome<T>> {
  const output: string[] = [];
  const write = process.stdout.write;
  // The client's logger writes strings; the test runner's own reports are left alone.
  process.stdout.write = function capture(chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string") {
      output.push(...chunk.split("\n").filter((line) => line !== ""));
      return true;
    }
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    return { value: await action(), output };
  } finally {
    process.stdout.write = write;
  }
}
