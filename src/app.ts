/**
 * The HTTP server: one Fastify instance, one plugin per surface (cache protocols, data plane,
 * webhook, operator). Each plugin keeps its own body parsers and error shape.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { ServiceError } from "./errors.js";
import { healthRoutes } from "./operator/health.js";
import type { Services } from "./services.js";
import { webhookRoutes } from "./webhook/routes.js";
import { v1Routes } from "./protocol/v1/routes.js";
import { v2Routes } from "./protocol/v2/routes.js";
import { jobStartedRoutes } from "./protocol/job-started.js";
import { blobRoutes } from "./dataplane/routes.js";

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // Request lines are written below with the route pattern only: URLs can carry secrets.
    logController: new LogController({ disableRequestLogging: true }),
    // Cache bodies are streamed by their routes; this bounds the JSON bodies Fastify parses.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });

  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      {
        event: "request",
        method: request.method,
        route: request.routeOptions.url ?? "(no route)",
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
      },
      "request completed",
    );
  });

  app.setErrorHandler((error: FastifyError | ServiceError, request, reply) => {
    if (error instanceof ServiceError) return reply.code(error.status).send({ message: error.message });
    if (typeof error.statusCode === "number" && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ message: error.message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ message: "internal error" });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `no route for ${request.method} ${request.routeOptions.url ?? "this path"}` }),
  );

  await app.register(healthRoutes, { db: services.db });
  await app.register(webhookRoutes, {
    secret: services.config.webhookSecret,
    db: services.db,
    jobs: services.jobs,
    log: services.log,
  });
  await app.register(v1Routes, services);
  await app.register(v2Routes, services);
  await app.register(jobStartedRoutes, services);
  await app.register(blobRoutes, services);
  return app;
}
