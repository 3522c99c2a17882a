/**
 * Bodies that are streamed, not parsed: a v1 chunk goes from the socket straight into the blob
 * store, so a 128 MiB chunk never sits in memory. The parser hands nothing to the handler and
 * leaves `request.raw` unread; the blob store's byte limit refuses an oversized body while it
 * flows, and the Content-Length check below refuses an announced one before a byte is read.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { badRequest, tooLarge } from "../../errors.js";

export function leaveBodyUnread(
  _request: FastifyRequest,
  _payload: unknown,
  done: (error: Error | null, body?: unknown) => void,
): void {
  done(null);
}

export const CHUNK_MEDIA_TYPE = "application/octet-stream";
const UNSUPPORTED_MEDIA_TYPE = 415;

/**
 * Route hook that refuses a chunk of any other media type before a parser can touch it: a
 * text or JSON parser would consume the body and the chunk would arrive empty.
 */
export async function requireOctetStream(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const mediaType = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== CHUNK_MEDIA_TYPE) {
    await reply.code(UNSUPPORTED_MEDIA_TYPE).send({
      message: `chunks must be sent as Content-Type: ${CHUNK_MEDIA_TYPE}, got ${mediaType ?? "none"}`,
    });
  }
}

/**
 * Checks an announced Content-Length against the length the Content-Range promises. The
 * official client streams chunked, with no Content-Length; other clients may send one.
 */
export function checkAnnouncedLength(
  request: FastifyRequest,
  expectedBytes: number,
  maxBytes: number,
): void {
  const header = request.headers["content-length"];
  if (header === undefined) return;
  const announced = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(announced)) {
    throw badRequest(`Content-Length "${header.slice(0, 40)}" is not a whole number`);
  }
  if (announced > maxBytes) {
    throw tooLarge(`body of ${announced} bytes is over the ${maxBytes}-byte chunk limit`);
  }
  if (announced !== expectedBytes) {
    throw badRequest(
      `Content-Length is ${announced} but Content-Range covers ${expectedBytes} bytes`,
    );
  }
}
