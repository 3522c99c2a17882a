/** Signed download URLs. */
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function downloadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
