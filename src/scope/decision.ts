/**
 * The scope resolver's contract: a runner and a request go in, a decision with its reasons comes
 * out. Each identity source (the webhook record, GitHub's API, later GitHub's own token) feeds
 * the same decision, and the cache domain only ever sees refs, never a branch name from a job.
 */
import type { Runner } from "../identity/runners.js";

/** What the caller is about to do; a write needs a write scope, a read needs read scopes. */
export type Access = "read" | "write";

export interface ScopeRequest {
  runner: Runner;
  access: Access;
  /** Run id offered by the request itself (header or query); a hint, never proof. */
  runIdHint?: number;
}

/** The job the decision rests on, as GitHub reported it. */
export interface JobFacts {
  jobId: number;
  runId: number;
  runAttempt: number;
  repository: string;
  headBranch: string | null;
  source: "webhook" | "api";
  /** The run's trigger event, when the run's facts are known. */
  event: string | null;
}

export interface ScopeDecision {
  /** Repository whose entries the call may touch; null when no job could be established. */
  repository: string | null;
  /** Full refs, in the order a lookup searches them (own ref first, default branch last). */
  readScopes: string[];
  /** The one ref a save writes to, or null when this job may not save. */
  writeScope: string | null;
  /** Why the decision is what it is: logged at every decision, returned on refusals. */
  reason: string;
  job: JobFacts | null;
}

export interface ScopeResolver {
  resolve(request: ScopeRequest): Promise<ScopeDecision>;
}

/** A decision that allows nothing: the fail-closed answer. */
export function denied(
  reason: string,
  repository: string | null = null,
  job: JobFacts | null = null,
): ScopeDecision {
  return { repository, readScopes: [], writeScope: null, reason, job };
}
