/**
 * POST /twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry
 *
 * Reserves (repository, write scope, key, version) and hands out the signed upload URL. The
 * archive size is not known yet: v2 declares it only at finalize. A duplicate, even one still
 * uploading, is Twirp `already_exists` (409), which buildkit maps to "exists"; a job that may not
 * write gets GitHub's own answer, `200 {ok:false}` with a "cache write denied:" message, which
 * the official client turns into a warning instead of a retry.
 */
import { validateKey, validateVersion } from "../../cache/keys.js";
import { createEntryRequest, createEntryResponse } from "./messages.js";
import { defineRpc } from "./rpc.js";
import { WRITE_DENIED_PREFIX } from "../caller.js";

/** Reserved: `{ok, signed_upload_url}`; refused: `{ok:false, message}`; duplicate: 409. */
export const createCacheEntry = defineRpc({
  request: createEntryRequest,
  response: createEntryResponse,
  async handle(services, request, message) {
    const key = validateKey(message.key);
    const version = validateVersion(message.version);
    const answer = createEntryResponse.empty();

    const { caller, decision } = await services.gate.admit(request, "write");
    if (decision.repository === null || decision.writeScope === null) {
      return { ...answer, message: `${WRITE_DENIED_PREFIX} ${decision.reason}` };
    }

    const entry = await services.uploads.reserve({
      repository: decision.repository,
      scope: decision.writeScope,
      key,
      version,
      declaredSize: null,
      saver: { runnerId: caller.id, jobId: decision.job?.jobId ?? null },
    });
    request.log.info(
      {
        event: "entry_reserved",
        repository: entry.repository,
        scope: entry.scope,
        key,
        entryId: entry.id,
        requestId: request.id,
      },
      "cache entry reserved",
    );
    return { ...answer, ok: true, signed_upload_url: services.signer.sign("upload", entry.id) };
  },
});
