/**
 * GET {base}_apis/artifactcache/caches?key=<K>: the committed entries with exactly this key in
 * the scopes the caller may read. The client calls it only after a miss with debug logging on,
 * to explain the miss; it carries no download URLs.
 */
import type { FastifyInstance } from "fastify";
import { validateKey } from "../../cache/keys.js";
import { listByKey } from "../../cache/lookup.js";
import type { Services } from "../../services.js";
import { CACHES_PATH } from "./paths.js";
import { singleQueryValue } from "./request-values.js";

export function registerList(app: FastifyInstance, services: Services): void {
  app.get(CACHES_PATH, async function listCaches(request, reply) {
    const key = validateKey(singleQueryValue(request.query, "key"));

    const { decision } = await services.gate.admit(request, "read");

    const entries =
      decision.repository === null
        ? []
        : await listByKey(services.db, decision.repository, decision.readScopes, key);

    return reply.code(200).send({
      totalCount: entries.length,
      artifactCaches: entries.map((entry) => ({
        cacheKey: entry.key,
        scope: entry.scope,
        cacheVersion: entry.version,
        creationTime: new Date(entry.createdAt).toISOString(),
      })),
    });
  });
}
