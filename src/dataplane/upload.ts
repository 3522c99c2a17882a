/**
 * PUT /blobs/upload/:id?se=<expiry>&sig=<hmac>[&comp=block&blockid=<id> | &comp=blocklist]
 *
 * The upload half of the data plane: the Azure Blob subset that v2 clients speak to the signed
 * URL CreateCacheEntry hands out. The URL is the only credential; `sig` covers the entry and
 * `se`, and the other query parameters name the Azure operation. Every answer is Azure-shaped:
 * 201 with the headers the SDKs read, or an `<Error>` document with x-ms-error-code.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../services.js";
import { azureAnswerFor, badQuery } from "./azure-errors.js";
import { OPERATIONS, operationOf } from "./azure-operations.js";
import { sendAzureError, sendCreated } from "./azure-reply.js";

/** Entry ids are database row ids; more digits than a safe integer has cannot name one. */
const ENTRY_ID = /^[1-9]\d{0,14}$/;

/** Registers the signed upload URL's route, with its own body handling and Azure error shape. */
export async function uploadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  // Bodies are left unread for the operation to stream (a block can be 128 MiB); whatever the
  // Content-Type says, the bytes are the archive's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  app.setErrorHandler((error, request, reply) => {
    const blockList = (request.query as Record<string, unknown> | undefined)?.comp === "blocklist";
    const answer = azureAnswerFor(error, blockList ? "InvalidBlockList" : "InvalidBlobOrBlock");
    if (answer === undefined) {
      // A client that hangs up mid-body is not a server fault; the partial blob was discarded.
      if (request.raw.readableAborted) {
        request.log.warn(
          { event: "upload_aborted", requestId: request.id },
          "client aborted the upload",
        );
      } else {
        request.log.error({ err: error, requestId: request.id }, "upload failed");
      }
      return sendAzureError(request, reply, 500, "InternalError", "internal error");
    }
    const { status, code, message } = answer;
    const refused = {
      event: "upload_refused",
      status,
      code,
      reason: message,
      requestId: request.id,
    };
    request.log.info(refused, "upload refused");
    return sendAzureError(request, reply, status, code, message);
  });

  app.put("/blobs/upload/:id", async (request, reply) => {
    const started = performance.now();
    const entryId = entryIdOf(request);
    const { se, sig } = request.query as Record<string, unknown>;
    services.signer.verify("upload", entryId, se, sig);
    const operation = operationOf(request);

    const entry = await services.uploads.uploading(entryId);
    await services.uploads.assertJobRunning(entry);
    const result = await OPERATIONS[operation](services, entry, request);

    request.log[operation === "put-block" ? "debug" : "info"](
      {
        event: "blob_written",
        operation,
        entryId,
        ...result,
        durationMs: Math.round(performance.now() - started),
        requestId: request.id,
      },
      "blob written",
    );
    return sendCreated(request, reply);
  });
}

function entryIdOf(request: FastifyRequest): number {
  const { id } = request.params as { id: string };
  if (!ENTRY_ID.test(id)) {
    throw badQuery(`upload URL names no cache entry ("${id.slice(0, 20)}" is not an entry id)`);
  }
  return Number(id);
}
