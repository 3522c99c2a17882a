/**
 * Where a caller's credential is found on a request, and who it names. This is the one place
 * that reads credentials; the rest of the service sees only the runner (or the verified GitHub
 * token's claims) it resolves to.
 *
 * A credential is taken from the path when the route has one (`/r/<runner token>/...`: runners
 * whose ACTIONS_CACHE_URL carries their token, while the stock runner still sends GitHub's own
 * token as the bearer, which is then not looked at), otherwise from `Authorization: Bearer`.
 */
import type { FastifyRequest } from "fastify";
import { decodeJwt } from "jose";
import { unauthenticated } from "../errors.js";
import type { GitHubTokenIdentity, GitHubTokenVerifier } from "./github-token.js";
import type { Runner, RunnerRegistry } from "./runners.js";
import { RUNNER_TOKEN_ISSUER, verifyRunnerToken } from "./runner-token.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Route parameter that carries a runner token in the path. */
export const PATH_CREDENTIAL_PARAM = "credential";
/** Mount point of the routes that take their credential from the path: `/r/<runner token>`. */
export const PATH_CREDENTIAL_PREFIX = `/r/:${PATH_CREDENTIAL_PARAM}`;
/** Longest path credential accepted; a runner token is a few hundred characters. */
export const MAX_PATH_CREDENTIAL_LENGTH = 2048;

export type CredentialSource = "path" | "bearer";

export interface Credential {
  token: string;
  source: CredentialSource;
}

/** Who a request's credential names: a registered runner, or a job by GitHub's own token. */
export type Identity =
  { kind: "runner"; runner: Runner } | { kind: "github-token"; claims: GitHubTokenIdentity };

/** The bearer token of the request, or undefined when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  return BEARER.exec(header)?.[1];
}

/** The path credential when the route has one, else the bearer; undefined when neither is given. */
export function credentialOf(request: FastifyRequest): Credential | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const fromPath = params?.[PATH_CREDENTIAL_PARAM];
  if (typeof fromPath === "string") {
    if (fromPath === "") throw unauthenticated("the runner token segment of the URL is empty");
    return { token: fromPath, source: "path" };
  }
  const bearer = bearerToken(request);
  return bearer === undefined ? undefined : { token: bearer, source: "bearer" };
}

export class RunnerAuthenticator {
  constructor(
    private readonly secret: Uint8Array,
    private readonly runners: RunnerRegistry,
    /** Undefined when GitHub-token verification is not configured. */
    private readonly githubTokens?: GitHubTokenVerifier,
  ) {}

  /** The registered runner the request's credential names; 401 with the reason otherwise. */
  async authenticate(request: FastifyRequest): Promise<Runner> {
    const credential = credentialOf(request);
    if (credential === undefined) {
      throw unauthenticated(
        "a runner token is required: Authorization: Bearer <token>, or /r/<token>/ in the URL",
      );
    }
    return this.runnerOf(credential.token);
  }

  /**
   * The runner or GitHub job the credential names. A path credential is always a runner token.
   * A bearer goes to GitHub's verifier when that is configured and the token does not say it is
   * one of ours; the unverified `iss` only picks the verifier, which then checks everything.
   */
  async identify(request: FastifyRequest): Promise<Identity> {
    const credential = credentialOf(request);
    if (credential === undefined) {
      throw unauthenticated(
        "Authorization: Bearer <token> (or /r/<runner token>/ in the URL) is required",
      );
    }
    if (
      credential.source === "bearer" &&
      this.githubTokens !== undefined &&
      !claimsOurIssuer(credential.token)
    ) {
      return { kind: "github-token", claims: await this.githubTokens.verify(credential.token) };
    }
    return { kind: "runner", runner: await this.runnerOf(credential.token) };
  }

  private async runnerOf(token: string): Promise<Runner> {
    const runnerId = await verifyRunnerToken(this.secret, token);
    const runner = await this.runners.get(runnerId);
    if (!runner) throw unauthenticated("runner token names a runner that is not registered");
    return runner;
  }
}

function claimsOurIssuer(token: string): boolean {
  try {
    return decodeJwt(token).iss === RUNNER_TOKEN_ISSUER;
  } catch {
    return false;
  }
}
