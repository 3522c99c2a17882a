/**
 * Write access for the v1 steps that save: reserve, upload and commit. Each admits the caller
 * for writing, and upload and commit also need the entry to be one the caller's job reserved
 * the right to fill: same repository, same write scope. A runner whose job has ended, or whose
 * job may not write, is refused before anything is touched.
 */
import type { FastifyRequest } from "fastify";
import type { CacheEntry } from "../../cache/entry.js";
import { forbidden } from "../../errors.js";
import { WRITE_DENIED_PREFIX, type Caller } from "../caller.js";
import type { Services } from "../../services.js";

export interface Writer extends Caller {
  repository: string;
  writeScope: string;
}

export async function admitWriter(services: Services, request: FastifyRequest): Promise<Writer> {
  const caller = await services.gate.admit(request, "write");
  const { repository, writeScope, reason } = caller.decision;
  // 403, not 400: the newer clients test for 400 first and would then never read the prefix.
  if (repository === null || writeScope === null) {
    throw forbidden(`${WRITE_DENIED_PREFIX} ${reason}`);
  }
  return { ...caller, repository, writeScope };
}

/**
 * The uploading entry `cacheId`, if the writer may fill it. Another repository's entry is "does
 * not exist" (its existence is none of this caller's business); another scope's is refused.
 */
export async function ownedUpload(
  services: Services,
  writer: Writer,
  cacheId: number,
): Promise<CacheEntry> {
  return services.uploads.uploading(cacheId, {
    repository: writer.repository,
    scope: writer.writeScope,
  });
}
