/**
 * Runner runtime tokens: HS256 JWTs minted by this service, whose subject names a runner record.
 * Only HS256 with the configured secret verifies; `alg: none`, RS256, HS512 and every other
 * algorithm are refused by jose before the signature is even looked at.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { unauthenticated } from "../errors.js";

/** Issuer of the runner tokens this service mints; tells them apart from GitHub's own. */
export const RUNNER_TOKEN_ISSUER = "gha-cache";
const AUDIENCE = "gha-cache/runner";

export interface MintOptions {
  runnerId: string;
  /** Seconds until the token expires; omitted means it lives as long as the runner record. */
  expiresInSeconds?: number;
}

export async function mintRunnerToken(secret: Uint8Array, options: MintOptions): Promise<string> {
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.runnerId)
    .setIssuer(RUNNER_TOKEN_ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt();
  if (options.expiresInSeconds !== undefined) {
    jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresInSeconds);
  }
  return jwt.sign(secret);
}

/** Returns the runner id the token names, or throws `unauthenticated` saying why (never echoing it). */
export async function verifyRunnerToken(secret: Uint8Array, token: string): Promise<string> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      issuer: RUNNER_TOKEN_ISSUER,
      audience: AUDIENCE,
    });
    if (typeof payload.sub !== "string" || payload.sub === "") {
      throw unauthenticated("runner token has no subject");
    }
    return payload.sub;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated("runner token has expired");
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      throw unauthenticated("runner token must be signed with HS256");
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw unauthenticated("runner token signature does not verify");
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw unauthenticated(`runner token claim "${error.claim}" is not valid`);
    }
    if (error instanceof joseErrors.JOSEError) throw unauthenticated("runner token is malformed");
    throw error;
  }
}
