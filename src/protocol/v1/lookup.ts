/**
 * GET {base}_apis/artifactcache/cache?keys=<k1,k2,...>&version=<V>: the lookup.
 *
 * `keys` is the primary key and the restore keys joined by commas and URL-encoded as one value
 * (the query parser has already decoded it). A hit answers 200 with a signed download URL; a
 * miss answers 204 with no body, the only status the client treats as a miss. A runner whose
 * job gives it nothing to read gets the same 204: failing closed looks like an empty cache, and
 * the gate has already logged why.
 */
import type { FastifyInstance } from "fastify";
import { validateLookupKeys, validateVersion } from "../../cache/keys.js";
import { findEntry, recordAccess } from "../../cache/lookup.js";
import type { Services } from "../../services.js";
import { LOOKUP_PATH } from "./paths.js";
import { singleQueryValue } from "./request-values.js";

const KEY_SEPARATOR = ",";

export function registerLookup(app: FastifyInstance, services: Services): void {
  app.get(LOOKUP_PATH, async function lookupCache(request, reply) {
    const keys = validateLookupKeys(
      (singleQueryValue(request.query, "keys") ?? "").split(KEY_SEPARATOR),
    );
    const version = validateVersion(singleQueryValue(request.query, "version"));

    const { caller, decision } = await services.gate.admit(request, "read");

    const entry =
      decision.repository === null
        ? undefined
        : await findEntry(services.db, decision.repository, decision.readScopes, keys, version);
    if (!entry) {
      request.log.info(
        { event: "cache_miss", runnerId: caller.id, keyCount: keys.length },
        "cache miss",
      );
      return reply.code(204).send();
    }
    await recordAccess(services.db, entry.id, caller.id);

    request.log.info(
      {
        event: "cache_hit",
        runnerId: caller.id,
        entryId: entry.id,
        scope: entry.scope,
        key: entry.key,
      },
      "cache hit",
    );
    return reply.code(200).send({
      cacheKey: entry.key,
      scope: entry.scope,
      cacheVersion: entry.version,
      creationTime: new Date(entry.createdAt).toISOString(),
      archiveLocation: services.signer.sign("download", entry.id),
    });
  });
}
