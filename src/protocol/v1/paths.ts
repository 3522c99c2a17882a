/**
 * The v1 resources, relative to the API's mount point. The client appends
 * `_apis/artifactcache/<resource>` to `ACTIONS_CACHE_URL` (actions/toolkit
 * `internal/cacheHttpClient.ts`, `getCacheApiUrl`).
 */
const BASE = "/_apis/artifactcache";

/** `GET cache?keys=...&version=...`: the lookup. */
export const LOOKUP_PATH = `${BASE}/cache`;
/** `GET caches?key=...` lists; `POST caches` reserves. */
export const CACHES_PATH = `${BASE}/caches`;
/** `PATCH caches/{id}` uploads a chunk; `POST caches/{id}` commits. */
export const CACHE_ENTRY_PATH = `${BASE}/caches/:cacheId`;
