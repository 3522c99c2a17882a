/**
 * The HTTP server: one Fastify instance, one plugin per surface (cache protocols, data plane,
 * webhook, operator). Each plugin keeps its own body parsers and error shape.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from "fastify";
import { ServiceError } from "./errors.js";
import { healthRoutes } from "./operator/health.js";
import type { Services } from "./services.js";
import { webhookRoutes } from "./webhook/routes.js";
import { v1Routes } from "./protocol/v1/routes.js";
import { v2Routes } from "./protocol/v2/routes.js";
import { jobStartedRoutes } from "./protocol/job-started.js";
import { blobRoutes } from "./dataplane/routes.js";
import { MAX_PATH_CREDENTIAL_LENGTH, PATH_CREDENTIAL_PREFIX } from "./identity/credential.js";
import { resultsPassthrough } from "./protocol/results-passthrough.js";

const BAD_REQUEST = 400;
/** The router's own refusals, said without the URL they would otherwise quote. */
const ROUTER_ERRORS: Record<string, string> = {
  FST_ERR_BAD_URL: "the URL is not valid: a path segment has bad percent-encoding",
  FST_ERR_MAX_PARAM_LENGTH: `a path segment is longer than ${MAX_PATH_CREDENTIAL_LENGTH} characters`,
};

function answerRouterError(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const message = ROUTER_ERRORS[error.code] ?? "malformed request";
  void reply.code(error.statusCode ?? BAD_REQUEST).send({ message });
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // Request lines are written below with the route pattern only: URLs can carry secrets.
    logController: new LogController({ disableRequestLogging: true }),
    // Cache bodies are streamed by their routes; this bounds the JSON bodies Fastify parses.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // A runner token in the path (/r/<token>/) is longer than Fastify's default of 100.
    routerOptions: { maxParamLength: MAX_PATH_CREDENTIAL_LENGTH },
    // Errors the router raises before any route (bad percent-encoding, an overlong segment)
    // would quote the URL, which under /r/ holds a runner token: answer without it.
    frameworkErrors: answerRouterError,
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
    if (error instanceof ServiceError)
      return reply.code(error.status).send({ message: error.message });
    if (typeof error.statusCode === "number" && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ message: error.message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ message: "internal error" });
  });

  // The path is not repeated: under /r/ it carries a runner token.
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `no route for ${request.method} on this path` }),
  );

  await app.register(healthRoutes, { db: services.db });
  await app.register(webhookRoutes, {
    secret: services.config.webhookSecret,
    db: services.db,
    jobs: services.jobs,
    runs: services.runs,
    log: services.log,
  });
  await app.register(v1Routes, services);
  await app.register(v2Routes, services);
  await app.register(jobStartedRoutes, services);
  // Runners whose ACTIONS_CACHE_URL carries their token: the same v1 API and job-start report
  // under /r/<token>/, authenticated by that path segment alone.
  await app.register(
    async (prefixed) => {
      await prefixed.register(v1Routes, services);
      await prefixed.register(jobStartedRoutes, services);
    },
    { prefix: PATH_CREDENTIAL_PREFIX },
  );
  await app.register(resultsPassthrough, services);
  await app.register(blobRoutes, services);
  return app;
}
