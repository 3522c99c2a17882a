/**
 * Errors of the download URL: JSON `{message}` for people and plain HTTP clients, plus the
 * `x-ms-error-code` header the Azure SDKs read an error's kind from (go-actions-cache downloads
 * through the Azure Go SDK on any host).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ServiceError, type ErrorCode } from "../errors.js";

/** Azure Blob error codes for our error kinds; unlisted kinds send no code. */
const AZURE_ERROR_CODES: Partial<Record<ErrorCode, string>> = {
  bad_request: "InvalidHeaderValue",
  forbidden: "AuthenticationFailed",
  not_found: "BlobNotFound",
};

const ARCHIVE_HEADERS = [
  "content-type",
  "content-length",
  "content-range",
  "etag",
  "last-modified",
];

const HTTP_CLIENT_ERROR_MIN = 400;
const HTTP_SERVER_ERROR_MIN = 500;

export function downloadErrorHandler(
  error: FastifyError | ServiceError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  // An error after the headers were chosen (a part that cannot be read) describes no bytes, and
  // Fastify keeps the headers set before a stream failed: drop those that describe the archive.
  for (const header of ARCHIVE_HEADERS) reply.removeHeader(header);
  if (error instanceof ServiceError) {
    const azureCode = AZURE_ERROR_CODES[error.code];
    if (azureCode !== undefined) reply.header("x-ms-error-code", azureCode);
    return reply.code(error.status).send({ message: error.message });
  }
  const status = (error as FastifyError).statusCode;
  if (
    typeof status === "number" &&
    status >= HTTP_CLIENT_ERROR_MIN &&
    status < HTTP_SERVER_ERROR_MIN
  ) {
    return reply.code(status).send({ message: error.message });
  }
  request.log.error({ event: "download_failed", err: error }, "download failed");
  return reply.code(HTTP_SERVER_ERROR_MIN).send({ message: "internal error" });
}
