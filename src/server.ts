/**
 * Starting and stopping the whole service: stores, HTTP server, housekeeping.
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { expireAbandonedUploads, startHousekeeping } from "./cache/housekeeping.js";
import type { Config } from "./config.js";
import type { Logger } from "./log.js";
import { pruneHistory } from "./scope/history.js";
import { createServices, type Services } from "./services.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** The origin the server listens on, e.g. http://127.0.0.1:3000. */
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const services = await createServices(config, log);
  const app = await buildApp(services);
  const address = await app.listen({ host: config.host, port: config.port });
  const stopHousekeeping = startHousekeeping(
    async () => {
      await expireAbandonedUploads(services.db, services.blobs, log, config.uploadTimeoutSeconds);
      await pruneHistory(services.db, log);
    },
    config.housekeepingIntervalSeconds,
    log,
  );
  if (config.webhookSecret === undefined) {
    log.warn(
      { event: "webhook_disabled" },
      "GHA_CACHE_WEBHOOK_SECRET is not set: the webhook receiver refuses deliveries",
    );
  }
  if (config.github === undefined) {
    log.warn(
      { event: "github_api_disabled" },
      "no GitHub App configured: runners are resolved from webhooks only",
    );
  }
  log.info(
    { event: "started", address, publicUrl: config.publicUrl, dataDir: config.dataDir },
    "gha-cache listening",
  );
  return {
    app,
    services,
    url: address,
    async close() {
      stopHousekeeping();
      await app.close();
      await services.close();
    },
  };
}
