/** Signed upload URLs. */
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function uploadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
