/**
 * The data plane: archive bytes move only through signed URLs, never through the cache API.
 * Uploads speak the Azure Blob subset the Azure SDKs use; downloads are plain or ranged GETs.
 */
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";
import { downloadRoutes } from "./download.js";
import { uploadRoutes } from "./upload.js";

export async function blobRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(uploadRoutes, services);
  await app.register(downloadRoutes, services);
}
