/**
 * Where a runner's credential is found on a request, and who it names. This is the one place
 * that reads credentials; the rest of the service sees only the runner it resolves to.
 */
import type { FastifyRequest } from "fastify";
import { unauthenticated } from "../errors.js";
import type { Runner, RunnerRegistry } from "./runners.js";
import { verifyRunnerToken } from "./runner-token.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The bearer token of the request, or undefined when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  return BEARER.exec(header)?.[1];
}

export class RunnerAuthenticator {
  constructor(
    private readonly secret: Uint8Array,
    private readonly runners: RunnerRegistry,
  ) {}

  /** The registered runner the request's token names; 401 with the reason otherwise. */
  async authenticate(request: FastifyRequest): Promise<Runner> {
    const token = bearerToken(request);
    if (token === undefined) throw unauthenticated("Authorization: Bearer <runner token> is required");
    const runnerId = await verifyRunnerToken(this.secret, token);
    const runner = await this.runners.get(runnerId);
    if (!runner) throw unauthenticated("runner token names a runner that is not registered");
    return runner;
  }
}
