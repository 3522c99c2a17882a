/**
 * The gate every cache call passes: who is calling (the runner its token names, or the job
 * GitHub's own token names) and what its job may touch (the scope resolver's decision, or the
 * token's scopes checked against the webhook). Every decision is logged with the caller, the
 * repository, the run and the reason, whether it allows the call or not.
 */
import type { FastifyRequest } from "fastify";
import { badRequest } from "../errors.js";
import type { Identity, RunnerAuthenticator } from "../identity/credential.js";
import type { GitHubTokenDecisions } from "../identity/github-token-decision.js";
import type { Logger } from "../log.js";
import type { Access, ScopeDecision, ScopeResolver } from "../scope/decision.js";

/**
 * How a refused save starts its message, in both protocols: the newer official clients (5.3+,
 * 6.1+) recognise it and report a policy refusal as a warning; older ones print it as it is.
 */
export const WRITE_DENIED_PREFIX = "cache write denied:";

/** Request header and query parameter that may carry a run-id hint for the API fallback. */
export const RUN_ID_HEADER = "x-github-run-id";
export const RUN_ID_QUERY = "run_id";

/** Who made the call, as stored with the entries it saves and reads (never a credential). */
export interface CallerId {
  /** A runner's id, or `github-token:<repository>` for a job known by GitHub's token. */
  id: string;
  name: string;
}

export interface Caller {
  caller: CallerId;
  decision: ScopeDecision;
}

export class CacheGate {
  constructor(
    private readonly authenticator: RunnerAuthenticator,
    private readonly resolver: ScopeResolver,
    private readonly log: Logger,
    private readonly githubTokens: GitHubTokenDecisions,
  ) {}

  async admit(request: FastifyRequest, access: Access): Promise<Caller> {
    const identity = await this.authenticator.identify(request);
    const { caller, decision, repository, run } = await this.decide(identity, request, access);
    const allowed =
      access === "write" ? decision.writeScope !== null : decision.readScopes.length > 0;
    this.log[allowed ? "info" : "warn"](
      {
        event: "scope_decision",
        access,
        allowed,
        identity: identity.kind,
        runner: identity.kind === "runner" ? caller.name : null,
        runnerId: identity.kind === "runner" ? caller.id : null,
        repository,
        run,
        job: decision.job?.jobId ?? null,
        jobSource: decision.job?.source ?? null,
        trigger: decision.job?.event ?? null,
        readScopes: decision.readScopes,
        writeScope: decision.writeScope,
        reason: decision.reason,
        requestId: request.id,
      },
      allowed ? "scope decided" : "scope refused",
    );
    return { caller, decision };
  }

  private async decide(
    identity: Identity,
    request: FastifyRequest,
    access: Access,
  ): Promise<Caller & { repository: string | null; run: number | null }> {
    if (identity.kind === "github-token") {
      const { claims } = identity;
      return {
        caller: { id: `github-token:${claims.repository}`, name: "github-token" },
        decision: await this.githubTokens.decide(claims),
        repository: claims.repository,
        run: claims.runId,
      };
    }
    const { runner } = identity;
    const runIdHint = runIdHintOf(request);
    const resolved = await this.resolver.resolve({ runner, access, runIdHint });
    return {
      caller: { id: runner.id, name: runner.name },
      decision: resolved,
      repository: resolved.repository ?? runner.repository,
      run: resolved.job?.runId ?? runIdHint ?? runner.hint?.runId ?? null,
    };
  }
}

function runIdHintOf(request: FastifyRequest): number | undefined {
  const fromHeader = request.headers[RUN_ID_HEADER];
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.[RUN_ID_QUERY];
  const raw =
    typeof fromHeader === "string"
      ? fromHeader
      : typeof fromQuery === "string"
        ? fromQuery
        : undefined;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,19}$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) === 0) {
    throw badRequest(`run id hint must be a positive whole number, got "${raw.slice(0, 40)}"`);
  }
  return Number(raw);
}
