/** The data plane: signed upload (Azure Blob subset) and download URLs. */
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function blobRoutes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
