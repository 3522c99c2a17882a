/** Legacy v1 cache API (`_apis/artifactcache/`). */
import type { FastifyInstance } from "fastify";
import type { Services } from "../../services.js";

export async function v1Routes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
