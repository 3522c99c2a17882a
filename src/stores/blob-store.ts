/**
 * Where archive bytes live. An entry's bytes are one or more named blobs (a v1 chunk, an Azure
 * block, or a whole Put Blob body); the metadata store orders them. Committing therefore never
 * copies or re-reads bytes, and serving a download never writes any.
 */
import type { Readable } from "node:stream";

export interface WriteResult {
  /** Bytes written. */
  size: number;
}

export interface WriteLimits {
  /** Fail with `too_large` once more than this many bytes arrive. */
  maxBytes: number;
  /** When set, fail with `bad_request` unless exactly this many bytes arrive. */
  exactBytes?: number;
}

export interface BlobStore {
  /**
   * Streams `body` into the blob `name`, replacing any earlier blob of that name only once the
   * whole body has arrived within its limits; a failed, aborted or refused write keeps nothing.
   */
  write(name: string, body: Readable, limits: WriteLimits): Promise<WriteResult>;
  /** Streams bytes `start` to `end` inclusive of the blob `name`. */
  read(name: string, start: number, end: number): Readable;
  /** Removes every blob whose name starts with `prefix`; missing blobs are not an error. */
  deletePrefix(prefix: string): Promise<void>;
}

/** Blob names of one entry share this prefix, so an entry's bytes are removed in one call. */
export function entryPrefix(entryId: number): string {
  return `entries/${entryId}/`;
}
