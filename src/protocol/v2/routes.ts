/** v2 Twirp cache API (`/twirp/github.actions.results.api.v1.CacheService/<Method>`). */
import type { FastifyInstance } from "fastify";
import type { Services } from "../../services.js";

export async function v2Routes(app: FastifyInstance, services: Services): Promise<void> {
  void app;
  void services;
}
