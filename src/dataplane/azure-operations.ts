/**
 * The three Azure Blob writes v2 clients make through a signed upload URL, each onto the cache
 * domain: Put Blob is the whole archive, Put Block stages one block under its opaque id, Put
 * Block List orders staged blocks into the archive. Bodies stream from the socket to the blob
 * store under its backpressure; only a block list, bounded in size, is read into memory.
 */
import type { FastifyRequest } from "fastify";
import type { CacheEntry } from "../cache/entry.js";
import { MAX_PART_BYTES } from "../cache/uploads.js";
import type { Services } from "../services.js";
import { parseBlockList, readBlockListBody, MAX_BLOCK_LIST_BYTES } from "./azure-block-list.js";
import {
  badHeader,
  badQuery,
  bodyTooLarge,
  missingContentLength,
  missingHeader,
} from "./azure-errors.js";

export type AzureOperation = "put-blob" | "put-block" | "put-block-list";

/** What an operation did, for its log line. */
export interface OperationResult {
  bytes: number;
  blocks?: number;
}

type Handler = (
  services: Services,
  entry: CacheEntry,
  request: FastifyRequest,
) => Promise<OperationResult>;

/** Put Blob: `x-ms-blob-type: BlockBlob` and the whole archive as the body. */
const putBlob: Handler = async (services, entry, request) => {
  const blobType = request.headers["x-ms-blob-type"];
  if (blobType === undefined) throw missingHeader("x-ms-blob-type is required for Put Blob");
  if (blobType !== "BlockBlob") {
    throw badHeader(`x-ms-blob-type must be BlockBlob, got "${String(blobType).slice(0, 40)}"`);
  }
  const length = requiredLength(
    request,
    MAX_PART_BYTES,
    "use Put Block and Put Block List for larger blobs",
  );
  await services.uploads.writeWhole(entry, length, request.raw);
  return { bytes: length };
};

/** Put Block: `comp=block&blockid=<id>`; the query parser has already URL-decoded the id. */
const putBlock: Handler = async (services, entry, request) => {
  const blockId = (request.query as Record<string, unknown>).blockid;
  if (typeof blockId !== "string" || blockId === "")
    throw badQuery("blockid is required once for Put Block");
  const length = requiredLength(request, MAX_PART_BYTES, "split the blob into smaller blocks");
  await services.uploads.stageBlock(entry, blockId, length, request.raw);
  return { bytes: length };
};

/** Put Block List: `comp=blocklist` and an XML list of staged block ids, in blob order. */
const putBlockList: Handler = async (services, entry, request) => {
  const announced = request.headers["content-length"];
  if (announced !== undefined && Number(announced) > MAX_BLOCK_LIST_BYTES) {
    throw bodyTooLarge(
      `block list of ${announced} bytes is over the ${MAX_BLOCK_LIST_BYTES}-byte limit`,
    );
  }
  const blockIds = parseBlockList(await readBlockListBody(request.raw));
  const bytes = await services.uploads.commitBlockList(entry, blockIds);
  return { bytes, blocks: blockIds.length };
};

export const OPERATIONS: Readonly<Record<AzureOperation, Handler>> = {
  "put-blob": putBlob,
  "put-block": putBlock,
  "put-block-list": putBlockList,
};

/** The operation a request's `comp` parameter names (none is Put Blob). */
export function operationOf(request: FastifyRequest): AzureOperation {
  const comp = (request.query as Record<string, unknown>).comp;
  if (comp === undefined) return "put-blob";
  if (comp === "block") return "put-block";
  if (comp === "blocklist") return "put-block-list";
  throw badQuery(`comp must be block or blocklist, got "${String(comp).slice(0, 40)}"`);
}

/**
 * The body's announced length, required up front: the blob store checks that exactly this many
 * bytes arrive, and an oversized body is refused before a byte of it is stored.
 */
function requiredLength(request: FastifyRequest, limit: number, hint: string): number {
  const header = request.headers["content-length"];
  if (header === undefined) throw missingContentLength();
  const length = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(length)) {
    throw badHeader("Content-Length must be a whole number");
  }
  if (length > limit)
    throw bodyTooLarge(`body of ${length} bytes is over the ${limit}-byte limit; ${hint}`);
  return length;
}
