/**
 * POST /twirp/github.actions.results.api.v1.CacheService/FinalizeCacheEntryUpload
 *
 * Commits the entry the caller's job reserved under this key and version, if the bytes received
 * add up to `size_bytes`. An unknown upload, a size mismatch or an entry already committed is
 * `200 {ok:false, message}`: the official client reports the message as a warning and does not
 * retry, and the entry stays invisible to lookups until housekeeping removes it.
 */
import { validateKey, validateVersion } from "../../cache/keys.js";
import { badRequest, ServiceError, type ErrorCode } from "../../errors.js";
import { WRITE_DENIED_PREFIX } from "../caller.js";
import { finalizeUploadRequest, finalizeUploadResponse } from "./messages.js";
import { defineRpc } from "./rpc.js";

/** Domain refusals that are an answer (`ok:false`), not a Twirp error. */
const REFUSED: ReadonlySet<ErrorCode> = new Set(["bad_request", "not_found", "conflict"]);

/** Committed: `{ok, entry_id}`; refused: `{ok:false, message}`. */
export const finalizeCacheEntryUpload = defineRpc({
  request: finalizeUploadRequest,
  response: finalizeUploadResponse,
  async handle(services, request, message) {
    const key = validateKey(message.key);
    const version = validateVersion(message.version);
    const size = byteCount(message.size_bytes);
    const answer = finalizeUploadResponse.empty();

    const { decision } = await services.gate.admit(request, "write");
    if (decision.repository === null || decision.writeScope === null) {
      return { ...answer, message: `${WRITE_DENIED_PREFIX} ${decision.reason}` };
    }

    const { repository, writeScope: scope } = decision;
    const logged = { repository, scope, key, requestId: request.id };
    try {
      const reserved = await services.uploads.uploadingByKey(repository, scope, key, version);
      const entry = await services.uploads.commit(reserved, size);
      request.log.info(
        { event: "entry_committed", ...logged, entryId: entry.id, size },
        "entry committed",
      );
      return { ...answer, ok: true, entry_id: String(entry.id) };
    } catch (error) {
      if (!(error instanceof ServiceError) || !REFUSED.has(error.code)) throw error;
      request.log.info(
        { event: "finalize_refused", ...logged, reason: error.message },
        "finalize refused",
      );
      return { ...answer, message: error.message };
    }
  },
});

function byteCount(sizeBytes: string): number {
  const size = Number(sizeBytes);
  // Digits only: "-0" and "1e3" are numbers to JavaScript but not byte counts.
  if (!/^\d+$/.test(sizeBytes) || !Number.isSafeInteger(size)) {
    throw badRequest(
      `size_bytes must be a whole number of bytes from 0 to ${Number.MAX_SAFE_INTEGER}, got ${sizeBytes}`,
    );
  }
  return size;
}
