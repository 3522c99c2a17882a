/**
 * Saving an entry: reserve its identity, receive its bytes as parts, commit it. Parts are kept
 * where they land (a v1 chunk at its offset, an Azure block under its id); the commit checks
 * that they tile the archive exactly and flips the entry to committed, without touching bytes.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Db } from "../db/database.js";
import { isUniqueViolation } from "../db/errors.js";
import { alreadyExists, badRequest, conflict, notFound } from "../errors.js";
import { entryPrefix, type BlobStore, type WriteLimits } from "../stores/blob-store.js";
import { toEntry, type CacheEntry, type Saver } from "./entry.js";
import { MiB } from "../config.js";

/** Largest single request body: a v1 chunk (the client caps them at 128 MiB) or a Put Blob. */
export const MAX_PART_BYTES = 128 * MiB;
/** Largest Azure block id we keep; the SDKs send 64 characters. */
const MAX_BLOCK_ID_LENGTH = 1024;
/** Blocks one entry may stage: 10 GiB in the Go SDK's 1 MiB blocks, with room to spare. */
const MAX_BLOCKS_PER_ENTRY = 50_000;

export interface ReserveRequest {
  repository: string;
  scope: string;
  key: string;
  version: string;
  declaredSize: number | null;
  saver: Saver;
}

/** Bodies being received right now, and the most ever received at once (for operators and tests). */
export interface UploadActivity {
  bodiesInFlight: number;
  peakBodiesInFlight: number;
}

export class Uploads {
  readonly activity: UploadActivity = { bodiesInFlight: 0, peakBodiesInFlight: 0 };

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly maxEntryBytes: number,
  ) {}

  /** Claims (repository, scope, key, version); a second claim fails even while the first uploads. */
  async reserve(request: ReserveRequest): Promise<CacheEntry> {
    if (request.declaredSize !== null && request.declaredSize > this.maxEntryBytes) {
      throw badRequest(
        `cache size of ${request.declaredSize} bytes is over the limit of ${this.maxEntryBytes} bytes`,
      );
    }
    const now = Date.now();
    try {
      const row = await this.db
        .insertInto("cache_entries")
        .values({
          repository: request.repository,
          scope: request.scope,
          key: request.key,
          version: request.version,
          state: "uploading",
          declared_size: request.declaredSize,
          size: null,
          created_at: now,
          committed_at: null,
          last_upload_at: now,
          last_accessed_at: null,
          last_accessed_by: null,
          created_by_runner: request.saver.runnerId,
          created_by_job: request.saver.jobId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEntry(row);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw alreadyExists(
          `Cache already exists. Scope: ${request.scope}, Key: ${request.key}, Version: ${request.version}`,
        );
      }
      throw error;
    }
  }

  /** The entry an upload call names, which must still be uploading. */
  async uploading(entryId: number, repository?: string): Promise<CacheEntry> {
    let query = this.db.selectFrom("cache_entries").selectAll().where("id", "=", entryId);
    if (repository !== undefined) query = query.where("repository", "=", repository);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound(`cache entry ${entryId} does not exist`);
    if (row.state !== "uploading") throw conflict(`cache entry ${entryId} is already committed`);
    return toEntry(row);
  }

  /** The uploading entry with this identity (v2 names entries by key and version, not id). */
  async uploadingByKey(repository: string, scope: string, key: string, version: string): Promise<CacheEntry> {
    const row = await this.db
      .selectFrom("cache_entries")
      .selectAll()
      .where("repository", "=", repository)
      .where("scope", "=", scope)
      .where("key", "=", key)
      .where("version", "=", version)
      .executeTakeFirst();
    if (!row) throw notFound(`no upload was started for key ${key} and this version in scope ${scope}`);
    if (row.state !== "uploading") throw conflict(`cache entry for key ${key} is already committed`);
    return toEntry(row);
  }

  /** A v1 chunk: bytes `start`..`end` (inclusive); a re-sent chunk replaces the earlier one. */
  async writeChunk(entry: CacheEntry, start: number, end: number, body: Readable): Promise<void> {
    const length = end - start + 1;
    if (start < 0 || end < start) throw badRequest(`Content-Range bytes ${start}-${end} is not a valid range`);
    if (length > MAX_PART_BYTES) throw badRequest(`chunk of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit`);
    const limit = entry.declaredSize ?? this.maxEntryBytes;
    if (end >= limit) {
      throw badRequest(`chunk ends at byte ${end}, beyond the entry's ${limit}-byte size`);
    }
    const blobName = `${entryPrefix(entry.id)}chunk-${start}`;
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    await this.putParts(entry.id, [{ offset: start, size: length, blob_name: blobName }], false);
  }

  /** Azure Put Blob: the whole archive in one body, replacing whatever was there. */
  async writeWhole(entry: CacheEntry, length: number, body: Readable): Promise<void> {
    if (length > MAX_PART_BYTES) throw badRequest(`blob of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit; use Put Block`);
    if (length > this.maxEntryBytes) throw badRequest(`blob of ${length} bytes is over the entry limit of ${this.maxEntryBytes} bytes`);
    const blobName = `${entryPrefix(entry.id)}whole`;
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    await this.putParts(entry.id, [{ offset: 0, size: length, blob_name: blobName }], true);
  }

  /** Azure Put Block: one block under its id; a re-sent id replaces the earlier block. */
  async stageBlock(entry: CacheEntry, blockId: string, length: number, body: Readable): Promise<void> {
    if (blockId.length === 0 || blockId.length > MAX_BLOCK_ID_LENGTH) {
      throw badRequest(`blockid must be 1-${MAX_BLOCK_ID_LENGTH} characters`);
    }
    if (length > MAX_PART_BYTES) throw badRequest(`block of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit`);
    const staged = await this.db
      .selectFrom("staged_blocks")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("entry_id", "=", entry.id)
      .executeTakeFirstOrThrow();
    if (Number(staged.count) >= MAX_BLOCKS_PER_ENTRY) {
      throw badRequest(`an entry may stage at most ${MAX_BLOCKS_PER_ENTRY} blocks`);
    }
    // Block ids are opaque and may hold any character: the file is named by their hash.
    const blobName = `${entryPrefix(entry.id)}block-${createHash("sha256").update(blockId).digest("hex")}`;
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    const now = Date.now();
    await this.db
      .insertInto("staged_blocks")
      .values({ entry_id: entry.id, block_id: blockId, size: length, blob_name: blobName, received_at: now })
      .onConflict((oc) => oc.columns(["entry_id", "block_id"]).doUpdateSet({ size: length, received_at: now }))
      .execute();
    await this.touch(entry.id);
  }

  /** Azure Put Block List: the archive is the listed blocks, in list order. */
  async commitBlockList(entry: CacheEntry, blockIds: string[]): Promise<number> {
    if (blockIds.length === 0) throw badRequest("block list is empty");
    const staged = await this.db
      .selectFrom("staged_blocks")
      .selectAll()
      .where("entry_id", "=", entry.id)
      .execute();
    const byId = new Map(staged.map((block) => [block.block_id, block]));
    const parts: { offset: number; size: number; blob_name: string }[] = [];
    let offset = 0;
    for (const id of blockIds) {
      const block = byId.get(id);
      if (!block) throw badRequest(`block list names block ${JSON.stringify(id.slice(0, 80))}, which was never uploaded`);
      parts.push({ offset, size: Number(block.size), blob_name: block.blob_name });
      offset += Number(block.size);
    }
    if (offset > this.maxEntryBytes) throw badRequest(`blob of ${offset} bytes is over the entry limit of ${this.maxEntryBytes} bytes`);
    await this.putParts(entry.id, parts, true);
    return offset;
  }

  /**
   * Commits the entry if its parts tile bytes 0..size-1 exactly. The check reads only metadata:
   * the archive itself is neither copied nor re-read.
   */
  async commit(entry: CacheEntry, size: number): Promise<CacheEntry> {
    if (!Number.isSafeInteger(size) || size < 0) throw badRequest("size must be a whole number of bytes");
    if (size > this.maxEntryBytes) throw badRequest(`size ${size} is over the entry limit of ${this.maxEntryBytes} bytes`);
    if (entry.declaredSize !== null && entry.declaredSize !== size) {
      throw badRequest(`size ${size} does not match the ${entry.declaredSize} bytes reserved`);
    }
    return this.db.transaction().execute(async (trx) => {
      const parts = await trx
        .selectFrom("entry_parts")
        .select(["offset", "size"])
        .where("entry_id", "=", entry.id)
        .orderBy("offset")
        .execute();
      let received = 0;
      for (const part of parts) {
        if (Number(part.offset) !== received) {
          throw badRequest(
            Number(part.offset) > received
              ? `bytes ${received}-${Number(part.offset) - 1} were never uploaded`
              : `uploaded chunks overlap at byte ${Number(part.offset)}`,
          );
        }
        received += Number(part.size);
      }
      if (received !== size) {
        throw badRequest(`received ${received} bytes but the commit says ${size}`);
      }
      const row = await trx
        .updateTable("cache_entries")
        .set({ state: "committed", size, committed_at: Date.now() })
        .where("id", "=", entry.id)
        .where("state", "=", "uploading")
        .returningAll()
        .executeTakeFirst();
      if (!row) throw conflict(`cache entry ${entry.id} is already committed`);
      await trx.deleteFrom("staged_blocks").where("entry_id", "=", entry.id).execute();
      return toEntry(row);
    });
  }

  /** Streams one request body into the blob store, counting bodies in flight. */
  private async receive(name: string, body: Readable, limits: WriteLimits): Promise<void> {
    this.activity.bodiesInFlight += 1;
    this.activity.peakBodiesInFlight = Math.max(this.activity.peakBodiesInFlight, this.activity.bodiesInFlight);
    try {
      await this.blobs.write(name, body, limits);
    } finally {
      this.activity.bodiesInFlight -= 1;
    }
  }

  private async putParts(
    entryId: number,
    parts: { offset: number; size: number; blob_name: string }[],
    replaceAll: boolean,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (replaceAll) await trx.deleteFrom("entry_parts").where("entry_id", "=", entryId).execute();
      for (const part of parts) {
        await trx
          .insertInto("entry_parts")
          .values({ entry_id: entryId, ...part })
          .onConflict((oc) => oc.columns(["entry_id", "offset"]).doUpdateSet({ size: part.size, blob_name: part.blob_name }))
          .execute();
      }
      await trx.updateTable("cache_entries").set({ last_upload_at: Date.now() }).where("id", "=", entryId).execute();
    });
  }

  private async touch(entryId: number): Promise<void> {
    await this.db.updateTable("cache_entries").set({ last_upload_at: Date.now() }).where("id", "=", entryId).execute();
  }
}
