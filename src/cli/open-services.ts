/**
 * One-shot commands open the same services the server runs on (same data folder, same secrets)
 * and close them when done. SQLite in WAL mode lets them do so while the server is running.
 */
import { loadConfig, type Config } from "../config.js";
import { createLogger } from "../log.js";
import type { Services } from "../services.js";

export async function withServices<T>(
  action: (services: Services, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  // stdout carries the command's output (often piped into an env file); logs go to stderr.
  const log = createLogger(config.logLevel, process.stderr);
  // Loaded here, not at the top: help and usage errors need none of the service's modules.
  const { createServices } = await import("../services.js");
  const services = await createServices(config, log);
  try {
    return await action(services, config);
  } finally {
    await services.close();
  }
}
