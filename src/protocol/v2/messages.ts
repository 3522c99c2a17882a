/**
 * The messages of `github.actions.results.api.v1.CacheService` the service answers, with the
 * field numbers of GitHub's `results/api/v1/cache.proto` (as shipped in @actions/cache's
 * generated code). Field 1 of every request is `metadata`, which the service does not read: the
 * caller's repository and scopes come from its token and GitHub, never from the request.
 */
import { MessageCodec, type Message } from "./codec.js";

export const getDownloadUrlRequest = new MessageCodec("GetCacheEntryDownloadURLRequest", {
  key: { number: 2, kind: "string" },
  restore_keys: { number: 3, kind: "repeated string" },
  version: { number: 4, kind: "string" },
});

export const getDownloadUrlResponse = new MessageCodec("GetCacheEntryDownloadURLResponse", {
  ok: { number: 1, kind: "bool" },
  signed_download_url: { number: 2, kind: "string" },
  matched_key: { number: 3, kind: "string" },
});

export const createEntryRequest = new MessageCodec("CreateCacheEntryRequest", {
  key: { number: 2, kind: "string" },
  version: { number: 3, kind: "string" },
});

export const createEntryResponse = new MessageCodec("CreateCacheEntryResponse", {
  ok: { number: 1, kind: "bool" },
  signed_upload_url: { number: 2, kind: "string" },
  message: { number: 3, kind: "string" },
});

export const finalizeUploadRequest = new MessageCodec("FinalizeCacheEntryUploadRequest", {
  key: { number: 2, kind: "string" },
  size_bytes: { number: 3, kind: "int64" },
  version: { number: 4, kind: "string" },
});

export const finalizeUploadResponse = new MessageCodec("FinalizeCacheEntryUploadResponse", {
  ok: { number: 1, kind: "bool" },
  entry_id: { number: 2, kind: "int64" },
  message: { number: 3, kind: "string" },
});

/** The decoded shape of a message, e.g. `MessageOf<typeof createEntryRequest>`. */
export type MessageOf<C> = C extends MessageCodec<infer S> ? Message<S> : never;
