/**
 * The gate every cache call passes: who is calling (the runner its token names) and what its job
 * may touch (the scope resolver's decision). Every decision is logged with the runner, the
 * repository, the run and the reason, whether it allows the call or not.
 */
import type { FastifyRequest } from "fastify";
import { badRequest } from "../errors.js";
import type { RunnerAuthenticator } from "../identity/credential.js";
import type { Runner } from "../identity/runners.js";
import type { Logger } from "../log.js";
import type { Access, ScopeDecision, ScopeResolver } from "../scope/decision.js";

/** Request header and query parameter that may carry a run-id hint for the API fallback. */
export const RUN_ID_HEADER = "x-github-run-id";
export const RUN_ID_QUERY = "run_id";

export interface Caller {
  runner: Runner;
  decision: ScopeDecision;
}

export class CacheGate {
  constructor(
    private readonly authenticator: RunnerAuthenticator,
    private readonly resolver: ScopeResolver,
    private readonly log: Logger,
  ) {}

  async admit(request: FastifyRequest, access: Access): Promise<Caller> {
    const runner = await this.authenticator.authenticate(request);
    const runIdHint = runIdHintOf(request);
    const decision = await this.resolver.resolve({ runner, access, runIdHint });
    const allowed = access === "write" ? decision.writeScope !== null : decision.readScopes.length > 0;
    this.log[allowed ? "info" : "warn"](
      {
        event: "scope_decision",
        access,
        allowed,
        runner: runner.name,
        runnerId: runner.id,
        repository: decision.repository ?? runner.repository,
        run: decision.job?.runId ?? runIdHint ?? runner.hint?.runId ?? null,
        job: decision.job?.jobId ?? null,
        jobSource: decision.job?.source ?? null,
        readScopes: decision.readScopes,
        writeScope: decision.writeScope,
        reason: decision.reason,
        requestId: request.id,
      },
      allowed ? "scope decided" : "scope refused",
    );
    return { runner, decision };
  }
}

function runIdHintOf(request: FastifyRequest): number | undefined {
  const fromHeader = request.headers[RUN_ID_HEADER];
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.[RUN_ID_QUERY];
  const raw = typeof fromHeader === "string" ? fromHeader : typeof fromQuery === "string" ? fromQuery : undefined;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,19}$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) === 0) {
    throw badRequest(`run id hint must be a positive whole number, got "${raw.slice(0, 40)}"`);
  }
  return Number(raw);
}
