/**
 * The v1 error shape: JSON `{message}`, which `@actions/http-client` turns into the error text
 * the client logs. Statuses are chosen with the client's retry rule in mind: it retries only
 * 502-504 and network errors, so a caller mistake must never surface as a 5xx.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ServiceError } from "../../errors.js";

/**
 * GitHub's own 409 body named the exception; go-actions-cache (buildkit) looks for
 * `AlreadyExists` in `typeKey` to tell "someone else saved it" from a failure.
 */
const ALREADY_EXISTS_TYPE = {
  typeName: "Microsoft.Azure.DevOps.PipelineCache.WebApi.ArtifactCacheItemAlreadyExistsException",
  typeKey: "ArtifactCacheItemAlreadyExistsException",
  errorCode: 0,
};

const HTTP_CLIENT_ERROR_MIN = 400;
/** nginx's status for a request its client abandoned; it shows in the request log line only. */
const CLIENT_CLOSED_REQUEST = 499;
const HTTP_SERVER_ERROR_MIN = 500;

export function v1ErrorHandler(
  error: FastifyError | ServiceError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ServiceError) {
    if (error.code === "unauthenticated") reply.header("www-authenticate", "Bearer");
    const extra = error.code === "already_exists" ? ALREADY_EXISTS_TYPE : {};
    return reply.code(error.status).send({ message: error.message, ...extra });
  }
  if (request.raw.destroyed || request.raw.socket?.destroyed === true) {
    // The client went away mid-body (a cancelled job, a retried chunk): nothing was stored, and
    // nobody is left to answer. Not a server fault, so no error-level line.
    request.log.info(
      { event: "v1_client_gone", route: request.routeOptions.url, reason: error.message },
      "client went away",
    );
    return reply.code(CLIENT_CLOSED_REQUEST).send({ message: "client closed the request" });
  }
  // Fastify's own refusals (bad JSON, wrong media type, body too large) keep their status.
  const status = (error as FastifyError).statusCode;
  if (
    typeof status === "number" &&
    status >= HTTP_CLIENT_ERROR_MIN &&
    status < HTTP_SERVER_ERROR_MIN
  ) {
    return reply.code(status).send({ message: error.message });
  }
  request.log.error(
    { event: "v1_request_failed", err: error, route: request.routeOptions.url },
    "request failed",
  );
  return reply.code(HTTP_SERVER_ERROR_MIN).send({ message: "internal error" });
}
