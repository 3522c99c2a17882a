/**
 * GitHub's own runtime token as an identity: the bearer a stock runner gives every JavaScript
 * action, sent to this service when ACTIONS_RESULTS_URL points here. It is verified against the
 * operator's JWKS URL and issuer (RS256 only, `exp` required, `nbf` honoured); its claims then
 * give the repository and the cache scopes, with no runner record involved.
 *
 * GitHub documents neither the signing keys nor a repository claim, so the operator names the
 * claim that holds `owner/name` (GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM) and, optionally, the
 * one that holds the numeric run id (GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM). Nothing is guessed.
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from "jose";
import type { GitHubTokenConfig } from "../config.js";
import { ServiceError, unauthenticated } from "../errors.js";
import { scopesFromAcClaim, type TokenScopes } from "./github-scopes.js";
import { REPOSITORY_NAME } from "./runners.js";

/** GitHub signs its runtime tokens with RSA keys; anything else is not one of its tokens. */
const ALGORITHMS = ["RS256"];
/** Clocks of GitHub and of this host may differ a little; more would stretch `exp`. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** A JWKS endpoint slower than this fails the call (503) rather than holding it. */
const JWKS_TIMEOUT_MS = 5_000;
/** A token with an unknown kid refetches the keys at most this often (a rotation, or junk). */
const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched at least this often, so a retired key stops verifying. */
const JWKS_MAX_AGE_MS = 10 * 60_000;

/** Who a verified GitHub token says the caller is: never the token itself. */
export interface GitHubTokenIdentity {
  repository: string;
  /** The run the token was issued for, when the operator mapped a run-id claim. */
  runId: number | null;
  scopes: TokenScopes;
}

export class GitHubTokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: GitHubTokenConfig) {
    this.keys = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
  }

  /** The issuer whose tokens this verifier takes; the gate routes a bearer here by it. */
  get issuer(): string {
    return this.config.issuer;
  }

  /** Verifies the token and reads its claims; 401 saying why (never echoing it), 503 without keys. */
  async verify(token: string): Promise<GitHubTokenIdentity> {
    const payload = await this.verifiedPayload(token);
    return {
      repository: this.repositoryOf(payload),
      runId: this.runIdOf(payload),
      scopes: scopesFromAcClaim(payload.ac),
    };
  }

  private async verifiedPayload(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: ALGORITHMS,
        issuer: this.config.issuer,
        ...(this.config.audience === undefined ? {} : { audience: this.config.audience }),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp"],
      });
      return payload;
    } catch (error) {
      throw refusal(error);
    }
  }

  private repositoryOf(payload: JWTPayload): string {
    const name = this.config.repositoryClaim;
    const value = payload[name];
    if (typeof value !== "string" || !REPOSITORY_NAME.test(value)) {
      throw unauthenticated(`GitHub token claim "${name}" must name the repository as owner/name`);
    }
    return value;
  }

  private runIdOf(payload: JWTPayload): number | null {
    const name = this.config.runIdClaim;
    if (name === undefined) return null;
    const raw = payload[name];
    const value = typeof raw === "string" && /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw unauthenticated(
        `GitHub token claim "${name}" must be the run id, a positive whole number`,
      );
    }
    return value;
  }
}

/** jose's reasons, as messages an operator can act on; anything else is passed on as it is. */
function refusal(error: unknown): unknown {
  if (error instanceof ServiceError) return error;
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return unauthenticated("GitHub token must be signed with RS256");
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return unauthenticated(
      "GitHub token is signed with a key (kid) that the configured JWKS does not hold",
    );
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return unauthenticated("GitHub token signature does not verify");
  }
  if (error instanceof joseErrors.JWTExpired) return unauthenticated("GitHub token has expired");
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss")
      return unauthenticated("GitHub token was issued by another issuer than the configured one");
    if (error.claim === "nbf")
      return unauthenticated("GitHub token is not valid yet (nbf is in the future)");
    return unauthenticated(`GitHub token claim "${error.claim}" is not valid`);
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return keysUnreachable();
  if (error instanceof joseErrors.JOSEError) return unauthenticated("GitHub token is malformed");
  // fetch's own failure (connection refused, DNS) is a TypeError: the keys are out of reach.
  if (error instanceof TypeError) return keysUnreachable();
  return error;
}

function keysUnreachable(): ServiceError {
  return new ServiceError(
    "unavailable",
    "the JWKS for GitHub tokens could not be fetched; try again",
  );
}
