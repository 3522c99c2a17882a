/**
 * Saving an entry: reserve its identity, receive its bytes as parts, commit it. Parts are kept
 * where they land (a v1 chunk at its offset, an Azure block under its id); the commit checks
 * that they tile the archive exactly and flips the entry to committed, without touching bytes.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Transaction } from "kysely";
import type { Db } from "../db/database.js";
import type { Database } from "../db/schema.js";
import { isUniqueViolation } from "../db/errors.js";
import { alreadyExists, badRequest, conflict, forbidden, notFound } from "../errors.js";
import { entryPrefix, type BlobStore, type WriteLimits } from "../stores/blob-store.js";
import { toEntry, type CacheEntry, type Saver } from "./entry.js";
import { MiB } from "../config.js";

/** Largest single request body: a v1 chunk (the client caps them at 128 MiB) or a Put Blob. */
export const MAX_PART_BYTES = 128 * MiB;
/** Largest Azure block id we keep; the SDKs send 64 characters. */
const MAX_BLOCK_ID_LENGTH = 1024;
/** Blocks one entry may stage, and list: Azure's own limit (10 GiB in the Go SDK's 1 MiB blocks). */
export const MAX_BLOCKS_PER_ENTRY = 50_000;
/** Part rows written per INSERT, well under every database's bound-parameter limit. */
const PART_ROWS_PER_INSERT = 500;

interface NewPart {
  offset: number;
  size: number;
  blob_name: string;
}

/**
 * Every received body gets a blob of its own: a body still arriving when the entry is committed
 * can then never replace bytes the commit already counted.
 */
function uniqueBlobName(entryId: number, what: string): string {
  return `${entryPrefix(entryId)}${what}-${randomUUID()}`;
}

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
  async uploading(
    entryId: number,
    owner?: { repository: string; scope: string },
  ): Promise<CacheEntry> {
    let query = this.db.selectFrom("cache_entries").selectAll().where("id", "=", entryId);
    if (owner !== undefined) query = query.where("repository", "=", owner.repository);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound(`cache entry ${entryId} does not exist`);
    // The scope before the state: whether another branch's entry is committed is not the caller's to learn.
    if (owner !== undefined && row.scope !== owner.scope) {
      throw forbidden(
        `cache entry ${entryId} was reserved for another scope than this job's ${owner.scope}`,
      );
    }
    if (row.state !== "uploading") throw conflict(`cache entry ${entryId} is already committed`);
    return toEntry(row);
  }

  /**
   * Refuses bytes for an upload whose job has completed: a signed upload URL carries no token, so
   * without this a leaked URL would outlive the job that asked for it.
   */
  async assertJobRunning(entry: CacheEntry): Promise<void> {
    if (entry.createdByJob === null) return;
    const job = await this.db
      .selectFrom("jobs")
      .select("status")
      .where("id", "=", entry.createdByJob)
      .executeTakeFirst();
    if (job?.status === "completed") {
      throw forbidden(`the job that started the upload of cache entry ${entry.id} has completed`);
    }
  }

  /** The uploading entry with this identity (v2 names entries by key and version, not id). */
  async uploadingByKey(
    repository: string,
    scope: string,
    key: string,
    version: string,
  ): Promise<CacheEntry> {
    const row = await this.db
      .selectFrom("cache_entries")
      .selectAll()
      .where("repository", "=", repository)
      .where("scope", "=", scope)
      .where("key", "=", key)
      .where("version", "=", version)
      .executeTakeFirst();
    if (!row)
      throw notFound(`no upload was started for key ${key} and this version in scope ${scope}`);
    if (row.state !== "uploading")
      throw conflict(`cache entry for key ${key} is already committed`);
    return toEntry(row);
  }

  /** A v1 chunk: bytes `start`..`end` (inclusive); a re-sent chunk replaces the earlier one. */
  async writeChunk(entry: CacheEntry, start: number, end: number, body: Readable): Promise<void> {
    const length = end - start + 1;
    if (start < 0 || end < start)
      throw badRequest(`Content-Range bytes ${start}-${end} is not a valid range`);
    if (length > MAX_PART_BYTES)
      throw badRequest(`chunk of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit`);
    const limit = entry.declaredSize ?? this.maxEntryBytes;
    if (end >= limit) {
      throw badRequest(`chunk ends at byte ${end}, beyond the entry's ${limit}-byte size`);
    }
    const blobName = uniqueBlobName(entry.id, `chunk-${start}`);
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    await this.putParts(entry.id, [{ offset: start, size: length, blob_name: blobName }], false);
  }

  /** Azure Put Blob: the whole archive in one body, replacing whatever was there. */
  async writeWhole(entry: CacheEntry, length: number, body: Readable): Promise<void> {
    if (length > MAX_PART_BYTES)
      throw badRequest(
        `blob of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit; use Put Block`,
      );
    if (length > this.maxEntryBytes)
      throw badRequest(
        `blob of ${length} bytes is over the entry limit of ${this.maxEntryBytes} bytes`,
      );
    const blobName = uniqueBlobName(entry.id, "whole");
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    await this.putParts(entry.id, [{ offset: 0, size: length, blob_name: blobName }], true);
  }

  /** Azure Put Block: one block under its id; a re-sent id replaces the earlier block. */
  async stageBlock(
    entry: CacheEntry,
    blockId: string,
    length: number,
    body: Readable,
  ): Promise<void> {
    if (blockId.length === 0 || blockId.length > MAX_BLOCK_ID_LENGTH) {
      throw badRequest(`blockid must be 1-${MAX_BLOCK_ID_LENGTH} characters`);
    }
    if (length > MAX_PART_BYTES)
      throw badRequest(`block of ${length} bytes is over the ${MAX_PART_BYTES}-byte limit`);
    const staged = await this.db
      .selectFrom("staged_blocks")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("entry_id", "=", entry.id)
      .executeTakeFirstOrThrow();
    if (Number(staged.count) >= MAX_BLOCKS_PER_ENTRY) {
      throw badRequest(`an entry may stage at most ${MAX_BLOCKS_PER_ENTRY} blocks`);
    }
    // Block ids are opaque and may hold any character: the file is named by their hash.
    const blobName = uniqueBlobName(
      entry.id,
      `block-${createHash("sha256").update(blockId).digest("hex")}`,
    );
    await this.receive(blobName, body, { maxBytes: length, exactBytes: length });
    const now = Date.now();
    const replaced = await this.whileUploading(entry.id, [blobName], async (trx) => {
      const earlier = await trx
        .selectFrom("staged_blocks")
        .select("blob_name")
        .where("entry_id", "=", entry.id)
        .where("block_id", "=", blockId)
        .executeTakeFirst();
      await trx
        .insertInto("staged_blocks")
        .values({
          entry_id: entry.id,
          block_id: blockId,
          size: length,
          blob_name: blobName,
          received_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(["entry_id", "block_id"])
            .doUpdateSet({ size: length, blob_name: blobName, received_at: now }),
        )
        .execute();
      return earlier ? [earlier.blob_name] : [];
    });
    await this.discardUnreferenced(entry.id, replaced);
  }

  /** Azure Put Block List: the archive is the listed blocks, in list order. */
  async commitBlockList(entry: CacheEntry, blockIds: string[]): Promise<number> {
    if (blockIds.length === 0) throw badRequest("block list is empty");
    if (blockIds.length > MAX_BLOCKS_PER_ENTRY) {
      throw badRequest(
        `block list names ${blockIds.length} blocks; at most ${MAX_BLOCKS_PER_ENTRY} are allowed`,
      );
    }
    const staged = await this.db
      .selectFrom("staged_blocks")
      .selectAll()
      .where("entry_id", "=", entry.id)
      .execute();
    const byId = new Map(staged.map((block) => [block.block_id, block]));
    const parts: NewPart[] = [];
    let offset = 0;
    for (const id of blockIds) {
      const block = byId.get(id);
      if (!block)
        throw badRequest(
          `block list names block ${JSON.stringify(id.slice(0, 80))}, which was never uploaded`,
        );
      parts.push({ offset, size: Number(block.size), blob_name: block.blob_name });
      offset += Number(block.size);
    }
    if (offset > this.maxEntryBytes)
      throw badRequest(
        `blob of ${offset} bytes is over the entry limit of ${this.maxEntryBytes} bytes`,
      );
    await this.putParts(entry.id, parts, true);
    return offset;
  }

  /**
   * Commits the entry if its parts tile bytes 0..size-1 exactly. The check reads only metadata:
   * the archive itself is neither copied nor re-read.
   */
  async commit(entry: CacheEntry, size: number): Promise<CacheEntry> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw badRequest("size must be a whole number of bytes");
    if (size > this.maxEntryBytes)
      throw badRequest(`size ${size} is over the entry limit of ${this.maxEntryBytes} bytes`);
    if (entry.declaredSize !== null && entry.declaredSize !== size) {
      throw badRequest(`size ${size} does not match the ${entry.declaredSize} bytes reserved`);
    }
    return this.db
      .transaction()
      .execute(async (trx) => {
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
        const staged = await trx
          .selectFrom("staged_blocks")
          .select("blob_name")
          .where("entry_id", "=", entry.id)
          .execute();
        await trx.deleteFrom("staged_blocks").where("entry_id", "=", entry.id).execute();
        return { committed: toEntry(row), staged: staged.map((block) => block.blob_name) };
      })
      .then(async ({ committed, staged }) => {
        // Blocks staged but left out of the block list are bytes nobody will read.
        await this.discardUnreferenced(entry.id, staged);
        return committed;
      });
  }

  /** Streams one request body into the blob store, counting bodies in flight. */
  private async receive(name: string, body: Readable, limits: WriteLimits): Promise<void> {
    this.activity.bodiesInFlight += 1;
    this.activity.peakBodiesInFlight = Math.max(
      this.activity.peakBodiesInFlight,
      this.activity.bodiesInFlight,
    );
    try {
      await this.blobs.write(name, body, limits);
    } finally {
      this.activity.bodiesInFlight -= 1;
    }
  }

  /** Records where parts lie, replacing parts at the same offsets (or all parts). */
  private async putParts(entryId: number, parts: NewPart[], replaceAll: boolean): Promise<void> {
    const fresh = parts.map((part) => part.blob_name);
    const replaced = await this.whileUploading(entryId, fresh, async (trx) => {
      let earlier = trx
        .selectFrom("entry_parts")
        .select("blob_name")
        .where("entry_id", "=", entryId);
      if (!replaceAll)
        earlier = earlier.where(
          "offset",
          "in",
          parts.map((part) => part.offset),
        );
      const old = (await earlier.execute()).map((part) => part.blob_name);
      let removal = trx.deleteFrom("entry_parts").where("entry_id", "=", entryId);
      if (!replaceAll)
        removal = removal.where(
          "offset",
          "in",
          parts.map((part) => part.offset),
        );
      await removal.execute();
      for (let start = 0; start < parts.length; start += PART_ROWS_PER_INSERT) {
        const rows = parts
          .slice(start, start + PART_ROWS_PER_INSERT)
          .map((part) => ({ entry_id: entryId, ...part }));
        await trx.insertInto("entry_parts").values(rows).execute();
      }
      return old.filter((name) => !fresh.includes(name));
    });
    await this.discardUnreferenced(entryId, replaced);
  }

  /**
   * Runs `change` in a transaction only while the entry is still uploading (and marks the upload
   * active); otherwise the bytes just received for it (`received`) are removed and the caller gets
   * 409. With the commit's own transaction, this keeps a committed entry's bytes fixed.
   */
  private async whileUploading<T>(
    entryId: number,
    received: string[],
    change: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const active = await trx
          .updateTable("cache_entries")
          .set({ last_upload_at: Date.now() })
          .where("id", "=", entryId)
          .where("state", "=", "uploading")
          .executeTakeFirst();
        if (Number(active.numUpdatedRows) === 0)
          throw conflict(`cache entry ${entryId} is no longer uploading`);
        return change(trx);
      });
    } catch (error) {
      await Promise.all(received.map((name) => this.blobs.deletePrefix(name)));
      throw error;
    }
  }

  /** Removes blobs of this entry that no part or staged block points at any more. */
  private async discardUnreferenced(entryId: number, names: string[]): Promise<void> {
    if (names.length === 0) return;
    // All of the entry's names rather than an IN list: a block list can name 50,000 blobs.
    const [parts, staged] = await Promise.all([
      this.db
        .selectFrom("entry_parts")
        .select("blob_name")
        .where("entry_id", "=", entryId)
        .execute(),
      this.db
        .selectFrom("staged_blocks")
        .select("blob_name")
        .where("entry_id", "=", entryId)
        .execute(),
    ]);
    const inUse = new Set([...parts, ...staged].map((row) => row.blob_name));
    await Promise.all(
      names.filter((name) => !inUse.has(name)).map((name) => this.blobs.deletePrefix(name)),
    );
  }
}
