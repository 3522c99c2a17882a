#!/usr/bin/env node
/**
 * The gha-cache command line: `serve` runs the service; `runner` manages runner identities.
 */
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { startServer } from "../server.js";

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gha-cache: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (command === "serve" || command === undefined) {
    const log = createLogger(config.logLevel);
    const server = await startServer(config, log);
    const stop = () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return -1;
  }
  process.stderr.write(`gha-cache: unknown command "${command}"\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gha-cache: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
