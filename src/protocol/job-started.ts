/** The job-start report a runner's job-started hook sends: a run-id hint for the resolver. */
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function jobStartedRoutes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
