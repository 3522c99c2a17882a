/**
 * POST {base}_apis/artifactcache/caches/{cacheId} {size}: the archive is complete.
 *
 * The chunks received must tile bytes 0..size-1 exactly; otherwise 400 naming the numbers, and
 * the entry stays uncommitted, so no lookup can ever return it. Committing reads metadata only.
 */
import type { FastifyInstance } from "fastify";
import { KiB } from "../../config.js";
import type { Services } from "../../services.js";
import { CACHE_ENTRY_PATH } from "./paths.js";
import { byteCountOf, cacheIdOf, jsonObjectOf } from "./request-values.js";
import { admitWriter, ownedUpload } from "./write-access.js";

/** The client's body is one field. */
const COMMIT_BODY_LIMIT_BYTES = 4 * KiB;

export function registerCommit(app: FastifyInstance, services: Services): void {
  app.post(
    CACHE_ENTRY_PATH,
    { bodyLimit: COMMIT_BODY_LIMIT_BYTES },
    async function commitCache(request, reply) {
      const cacheId = cacheIdOf(request.params);
      const size = byteCountOf(jsonObjectOf(request.body).size, "size");

      const writer = await admitWriter(services, request);
      const entry = await ownedUpload(services, writer, cacheId);

      const committed = await services.uploads.commit(entry, size);

      request.log.info(
        {
          event: "cache_committed",
          runnerId: writer.caller.id,
          entryId: committed.id,
          scope: committed.scope,
          size,
        },
        "cache committed",
      );
      return reply.code(204).send();
    },
  );
}
