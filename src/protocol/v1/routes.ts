/**
 * Legacy v1 cache API (`_apis/artifactcache/`), as `@actions/cache` 3.x, GitHub Enterprise
 * Server, buildkit and sccache in v1 mode call it.
 *
 * The client builds every URL by appending `_apis/artifactcache/<resource>` to
 * `ACTIONS_CACHE_URL`, keeping that URL's path. So the API is one plugin whose routes are
 * relative to wherever it is mounted: here at the origin root, and equally under a prefix that
 * carries a runner credential, for runners whose cache URL holds their token:
 * `app.register(artifactCacheApi, { services, prefix: "/:credential" })`.
 */
import type { FastifyInstance } from "fastify";
import type { Services } from "../../services.js";
import { artifactCacheApi } from "./api.js";

export async function v1Routes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(artifactCacheApi, { services });
}
