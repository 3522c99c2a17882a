/**
 * Answers in the shape of Azure Blob Storage, for the Azure SDKs behind v2 uploads. The SDK's
 * operation specs accept exactly 201 for Put Blob, Put Block and Put Block List; it parses
 * ETag, Last-Modified, x-ms-request-id, x-ms-version and Date when present, and buildkit's Go
 * SDK reads x-ms-request-id from every answer, so every answer, error or not, carries one.
 * Error bodies follow https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/** The storage API version answered when the request names none (or an odd one). */
export const AZURE_API_VERSION = "2025-01-05";
/** Azure versions are dates; anything else is not echoed back. */
const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
/** Azure ETags are quoted hex of a 64-bit value. */
const ETAG_BYTES = 8;

/** Headers every data-plane answer carries; returns the request id, for the log line. */
export function azureHeaders(request: FastifyRequest, reply: FastifyReply): string {
  const requestId = randomUUID();
  const asked = request.headers["x-ms-version"];
  reply.header("x-ms-request-id", requestId);
  const echoed = typeof asked === "string" && API_VERSION_SHAPE.test(asked);
  reply.header("x-ms-version", echoed ? asked : AZURE_API_VERSION);
  reply.header("date", new Date().toUTCString());
  const clientRequestId = request.headers["x-ms-client-request-id"];
  // Azure echoes the client's id; only a plain, short one is echoed so no header can be injected.
  if (typeof clientRequestId === "string" && /^[A-Za-z0-9-]{1,64}$/.test(clientRequestId)) {
    reply.header("x-ms-client-request-id", clientRequestId);
  }
  return requestId;
}

/** 201 Created with an empty body: the only success the Azure SDK accepts for these writes. */
export function sendCreated(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  azureHeaders(request, reply);
  reply.header("etag", `"0x${randomBytes(ETAG_BYTES).toString("hex").toUpperCase()}"`);
  reply.header("last-modified", new Date().toUTCString());
  reply.header("x-ms-request-server-encrypted", "false");
  reply.header("content-length", "0");
  return reply.code(201).send();
}

/** `<Error><Code/><Message/></Error>` with the code repeated in x-ms-error-code. */
export function sendAzureError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  const requestId = azureHeaders(request, reply);
  // Azure's own messages end with the request id and time, which support staff ask for.
  const text = `${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
  const body =
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(text)}</Message></Error>`;
  reply.header("x-ms-error-code", code);
  return reply.code(status).type("application/xml").send(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
