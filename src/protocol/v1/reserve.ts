/**
 * POST {base}_apis/artifactcache/caches {key, version, cacheSize}: claims an entry before its
 * bytes arrive.
 *
 * Answers `{cacheId}`; the client tests the id for truthiness, and SQLite ids start at 1. The
 * same key and version in the same scope is refused with 409 even while the first save is still
 * uploading (entries are immutable); a declared size over the limit is 400, which the client
 * reports with our message.
 */
import type { FastifyInstance } from "fastify";
import { validateKey, validateVersion } from "../../cache/keys.js";
import { KiB } from "../../config.js";
import type { Services } from "../../services.js";
import { CACHES_PATH } from "./paths.js";
import { byteCountOf, jsonObjectOf } from "./request-values.js";
import { admitWriter } from "./write-access.js";

/** The client's body is three pretty-printed fields; anything near this is not a client. */
const RESERVE_BODY_LIMIT_BYTES = 16 * KiB;

export function registerReserve(app: FastifyInstance, services: Services): void {
  app.post(
    CACHES_PATH,
    { bodyLimit: RESERVE_BODY_LIMIT_BYTES },
    async function reserveCache(request, reply) {
      const body = jsonObjectOf(request.body);
      const key = validateKey(body.key);
      const version = validateVersion(body.version);
      // buildkit's v1 client may leave the size out; the commit then checks the bytes alone.
      const declaredSize =
        body.cacheSize === undefined || body.cacheSize === null
          ? null
          : byteCountOf(body.cacheSize, "cacheSize");

      const writer = await admitWriter(services, request);

      const entry = await services.uploads.reserve({
        repository: writer.repository,
        scope: writer.writeScope,
        key,
        version,
        declaredSize,
        saver: { runnerId: writer.caller.id, jobId: writer.decision.job?.jobId ?? null },
      });

      request.log.info(
        {
          event: "cache_reserved",
          runnerId: writer.caller.id,
          entryId: entry.id,
          scope: entry.scope,
          key,
          declaredSize,
        },
        "cache reserved",
      );
      return reply.code(201).send({ cacheId: entry.id });
    },
  );
}
