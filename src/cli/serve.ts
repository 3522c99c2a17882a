/**
 * `gha-cache serve`: runs the service until SIGTERM or SIGINT, then stops accepting requests and
 * lets the ones in flight finish, within a grace period.
 */
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { recordServerKeys } from "../secrets.js";
import { HELP_OPTION, parseFlags } from "./args.js";
import { EXIT_FAILURE, EXIT_OK, type Command } from "./command.js";

/** Below Kubernetes' default 30 s termination grace, so we exit before being killed. */
const SHUTDOWN_GRACE_MS = 25_000;
const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

const usage = `usage: gha-cache serve

Runs the service with the configuration in the environment (see the README's table).`;

export const serve: Command = {
  name: "serve",
  summary: "run the service",
  usage,
  async run(args) {
    const { values } = parseFlags(args, { ...HELP_OPTION }, 0);
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    // Loaded here, not at the top: help and usage errors need none of the server's modules.
    const { startServer } = await import("../server.js");
    const server = await startServer(config, log);
    // Lets `runner add` and `runner token` notice when they would mint with another key.
    recordServerKeys(config.dataDir, server.services.secrets);

    const signal = await new Promise<string>((resolve) => {
      for (const name of STOP_SIGNALS) process.once(name, () => resolve(name));
    });
    log.info({ event: "stopping", signal }, "gha-cache stopping");
    // A second signal, or the grace period running out, ends the process at once.
    const forced = new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(EXIT_FAILURE), SHUTDOWN_GRACE_MS);
      timer.unref();
      for (const name of STOP_SIGNALS) process.once(name, () => resolve(EXIT_FAILURE));
    });
    const closed = server.close().then(
      () => EXIT_OK,
      (error: unknown) => {
        log.error({ event: "stop_failed", err: error }, "gha-cache did not stop cleanly");
        return EXIT_FAILURE;
      },
    );
    const code = await Promise.race([closed, forced]);
    if (code === EXIT_OK) log.info({ event: "stopped" }, "gha-cache stopped");
    else log.warn({ event: "stop_forced" }, "gha-cache stopped before every request finished");
    return code;
  },
};
