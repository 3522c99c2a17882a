/**
 * GET and HEAD /blobs/download/{entryId}?se=&sig=: an entry's archive through its signed URL.
 *
 * The URL is the only credential (clients send no token with it): a wrong, expired or foreign
 * signature is 403 before the entry is even looked up. A plain GET answers 200 with the whole
 * archive and its Content-Length (the official client compares the file it wrote with it, and
 * writes whatever a status below 500 carries, so nothing may alter the bytes: no compression);
 * `Range` or `x-ms-range` answers 206. HEAD answers the same headers without a body (the Azure
 * SDKs read the size that way).
 *
 * Bytes flow as soon as the first part is open and follow the client's pace (the official
 * client aborts a download idle for 5 s); when the client goes away, Fastify destroys the
 * stream, which closes the open part file.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { openDownload, streamRange, type Download } from "../cache/downloads.js";
import { badRequest } from "../errors.js";
import type { Services } from "../services.js";
import { rangeOf } from "./download-range.js";
import { downloadErrorHandler } from "./download-errors.js";

export const DOWNLOAD_PATH = "/blobs/download/:entryId";

/**
 * The Blob service version we answer as. The Azure SDKs send their own and accept any answer;
 * this is one they all know.
 */
const AZURE_API_VERSION = "2023-11-03";

export async function downloadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.setErrorHandler(downloadErrorHandler);

  app.route({
    method: ["GET", "HEAD"],
    url: DOWNLOAD_PATH,
    handler: async function downloadBlob(request, reply) {
      const entryId = entryIdOf(request.params);
      const query = request.query as Record<string, unknown>;
      services.signer.verify("download", entryId, query.se, query.sig);

      const download = await openDownload(services.db, entryId);

      return answer(services, request, reply, download);
    },
  });
}

function answer(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  download: Download,
): FastifyReply {
  const etag = `"${download.entryId}-${download.committedAt}"`;
  reply
    .header("x-ms-request-id", randomUUID())
    .header("x-ms-version", AZURE_API_VERSION)
    .header("x-ms-blob-type", "BlockBlob")
    .header("accept-ranges", "bytes")
    .header("etag", etag)
    .header("last-modified", new Date(download.committedAt).toUTCString());

  const range = rangeStillValid(request, etag, download)
    ? rangeOf(request.headers, download.size)
    : { kind: "whole" as const };
  if (range.kind === "unsatisfiable") {
    return reply
      .code(416)
      .header("content-range", `bytes */${download.size}`)
      .header("x-ms-error-code", "InvalidRange")
      .send({ message: `the requested range is outside the archive's ${download.size} bytes` });
  }
  const [status, start, end] =
    range.kind === "partial" ? [206, range.start, range.end] : [200, 0, download.size - 1];
  if (range.kind === "partial") {
    reply.header("content-range", `bytes ${start}-${end}/${download.size}`);
  }
  reply
    .code(status)
    .header("content-type", "application/octet-stream")
    .header("content-length", String(end - start + 1));

  request.log.debug(
    { event: "download_started", entryId: download.entryId, start, end, status },
    "download started",
  );
  if (request.method === "HEAD" || end < start) return reply.send();
  return reply.send(streamRange(services.blobs, download, start, end));
}

/**
 * `If-Range` (RFC 9110 section 13.1.5): a client resuming a download asks for the rest only if
 * the entry is still the one it started; otherwise it gets the whole entry again.
 */
function rangeStillValid(request: FastifyRequest, etag: string, download: Download): boolean {
  const condition = request.headers["if-range"];
  if (condition === undefined) return true;
  return condition === etag || condition === new Date(download.committedAt).toUTCString();
}

function entryIdOf(params: unknown): number {
  const raw = (params as Record<string, unknown>).entryId;
  const id = typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : 0;
  if (id <= 0) {
    throw badRequest(`entry id "${String(raw).slice(0, 40)}" must be a positive whole number`);
  }
  return id;
}
