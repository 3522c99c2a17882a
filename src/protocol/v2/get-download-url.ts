/**
 * POST /twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL
 *
 * The restore lookup. A miss, and a caller that may read nothing, are both `200 {ok:false}`:
 * the official client, buildkit and OpenDAL all take that as a miss, and a job that may not read
 * must learn nothing more than one that found nothing (the gate logs why it refused).
 */
import { findEntry, recordAccess } from "../../cache/lookup.js";
import { validateLookupKeys, validateVersion } from "../../cache/keys.js";
import { getDownloadUrlRequest, getDownloadUrlResponse } from "./messages.js";
import { defineRpc } from "./rpc.js";

/** Hit: `{ok, signed_download_url, matched_key}`; miss or nothing readable: `{ok:false}`. */
export const getCacheEntryDownloadUrl = defineRpc({
  request: getDownloadUrlRequest,
  response: getDownloadUrlResponse,
  async handle(services, request, message) {
    const keys = validateLookupKeys([message.key, ...message.restore_keys]);
    const version = validateVersion(message.version);
    const miss = getDownloadUrlResponse.empty();

    const { caller, decision } = await services.gate.admit(request, "read");
    if (decision.repository === null || decision.readScopes.length === 0) return miss;

    const entry = await findEntry(
      services.db,
      decision.repository,
      decision.readScopes,
      keys,
      version,
    );
    const logged = { repository: decision.repository, key: keys[0], requestId: request.id };
    if (!entry) {
      request.log.info(
        { event: "cache_miss", ...logged, scopes: decision.readScopes },
        "cache miss",
      );
      return miss;
    }
    await recordAccess(services.db, entry.id, caller.id);
    request.log.info(
      {
        event: "cache_hit",
        ...logged,
        entryId: entry.id,
        scope: entry.scope,
        matchedKey: entry.key,
      },
      "cache hit",
    );
    return {
      ok: true,
      signed_download_url: services.signer.sign("download", entry.id),
      matched_key: entry.key,
    };
  },
});
