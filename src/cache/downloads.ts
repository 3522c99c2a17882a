/**
 * Serving an entry's bytes: the parts in order, or the slice of them a range asks for. Parts are
 * read one after another through the stream's own backpressure, so memory stays flat whatever
 * the archive size and bytes start flowing at once (the client aborts a download idle for 5 s).
 */
import { Readable } from "node:stream";
import type { Db } from "../db/database.js";
import { notFound } from "../errors.js";
import type { BlobStore } from "../stores/blob-store.js";

export interface Part {
  offset: number;
  size: number;
  blobName: string;
}

export interface Download {
  entryId: number;
  size: number;
  /** Epoch milliseconds; downloads report it as Last-Modified. */
  committedAt: number;
  parts: Part[];
}

/** The committed entry's layout; an uploading or missing entry is not found. */
export async function openDownload(db: Db, entryId: number): Promise<Download> {
  const entry = await db
    .selectFrom("cache_entries")
    .select(["id", "size", "committed_at"])
    .where("id", "=", entryId)
    .where("state", "=", "committed")
    .executeTakeFirst();
  if (!entry || entry.size === null) throw notFound(`cache entry ${entryId} does not exist`);
  const parts = await db
    .selectFrom("entry_parts")
    .select(["offset", "size", "blob_name"])
    .where("entry_id", "=", entryId)
    .orderBy("offset")
    .execute();
  return {
    entryId,
    size: Number(entry.size),
    committedAt: Number(entry.committed_at),
    parts: parts.map((p) => ({
      offset: Number(p.offset),
      size: Number(p.size),
      blobName: p.blob_name,
    })),
  };
}

/** Streams bytes `start`..`end` inclusive of the download, crossing part boundaries. */
export function streamRange(
  blobs: BlobStore,
  download: Download,
  start: number,
  end: number,
): Readable {
  async function* slices(): AsyncGenerator<Buffer> {
    for (const part of download.parts) {
      const partEnd = part.offset + part.size - 1;
      if (part.size === 0 || partEnd < start || part.offset > end) continue;
      const from = Math.max(start, part.offset) - part.offset;
      const to = Math.min(end, partEnd) - part.offset;
      for await (const chunk of blobs.read(part.blobName, from, to)) yield chunk as Buffer;
    }
  }
  return Readable.from(slices(), { objectMode: false });
}
