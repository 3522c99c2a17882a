/**
 * The v1 API as one encapsulated Fastify plugin: its own error shape and body parsers, and the
 * five protocol steps, each in its own file. Paths are relative to the mount point (see
 * routes.ts), so nothing here assumes the API lives at the origin root.
 */
import type { FastifyInstance } from "fastify";
import type { Services } from "../../services.js";
import { registerCommit } from "./commit.js";
import { v1ErrorHandler } from "./error-handler.js";
import { registerList } from "./list.js";
import { registerLookup } from "./lookup.js";
import { registerReserve } from "./reserve.js";
import { CHUNK_MEDIA_TYPE, leaveBodyUnread } from "./streamed-body.js";
import { registerUploadChunk } from "./upload-chunk.js";

export interface V1Options {
  services: Services;
}

export async function artifactCacheApi(app: FastifyInstance, options: V1Options): Promise<void> {
  const { services } = options;
  app.setErrorHandler(v1ErrorHandler);
  // Chunks are streamed from the socket by their handler, never buffered by a parser.
  app.addContentTypeParser(CHUNK_MEDIA_TYPE, leaveBodyUnread);

  registerLookup(app, services);
  registerList(app, services);
  registerReserve(app, services);
  registerUploadChunk(app, services);
  registerCommit(app, services);
}
