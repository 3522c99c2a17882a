/**
 * PATCH {base}_apis/artifactcache/caches/{cacheId}: one chunk of the archive, at the offsets its
 * `Content-Range: bytes <start>-<end>/*` names, as `application/octet-stream`.
 *
 * The client's four workers send chunks in parallel and out of order, and a retried chunk may
 * come twice (the later copy replaces the earlier). The body streams from the socket into the
 * blob store; it is never held in memory whole.
 */
import type { FastifyInstance } from "fastify";
import { MAX_PART_BYTES } from "../../cache/uploads.js";
import type { Services } from "../../services.js";
import { parseContentRange } from "./content-range.js";
import { CACHE_ENTRY_PATH } from "./paths.js";
import { cacheIdOf } from "./request-values.js";
import { checkAnnouncedLength, requireOctetStream } from "./streamed-body.js";
import { admitWriter, ownedUpload } from "./write-access.js";

export function registerUploadChunk(app: FastifyInstance, services: Services): void {
  app.patch(
    CACHE_ENTRY_PATH,
    { onRequest: requireOctetStream },
    async function uploadChunk(request, reply) {
      const cacheId = cacheIdOf(request.params);
      const range = parseContentRange(request.headers["content-range"]);
      const length = range.end - range.start + 1;
      checkAnnouncedLength(request, length, MAX_PART_BYTES);

      const writer = await admitWriter(services, request);
      const entry = await ownedUpload(services, writer, cacheId);

      await services.uploads.writeChunk(entry, range.start, range.end, request.raw);

      request.log.debug(
        { event: "chunk_received", entryId: entry.id, start: range.start, end: range.end },
        "chunk received",
      );
      return reply.code(204).send();
    },
  );
}
