/**
 * Twirp errors: a JSON body `{code, msg}` with the HTTP status Twirp fixes for each code
 * (https://twitchtv.github.io/twirp/docs/spec_v7.html#error-codes). The official client reads
 * only the status and `msg`, and retries 500/502/503/504, so a caller mistake must map to a 4xx.
 */
import type { ErrorCode } from "../../errors.js";
import { ServiceError } from "../../errors.js";

export type TwirpCode =
  | "malformed"
  | "invalid_argument"
  | "bad_route"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "aborted"
  | "internal"
  | "unavailable";

const TWIRP_STATUS: Record<TwirpCode, number> = {
  malformed: 400,
  invalid_argument: 400,
  bad_route: 404,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  aborted: 409,
  internal: 500,
  unavailable: 503,
};

/** The Twirp code for each service error; an oversized request is still the caller's mistake. */
const FROM_SERVICE: Record<ErrorCode, TwirpCode> = {
  bad_request: "invalid_argument",
  unauthenticated: "unauthenticated",
  forbidden: "permission_denied",
  not_found: "not_found",
  already_exists: "already_exists",
  conflict: "aborted",
  too_large: "invalid_argument",
  unavailable: "unavailable",
  webhook_disabled: "unavailable",
};

/** A caller mistake the Twirp layer itself finds (undecodable body, unknown method). */
export class TwirpError extends ServiceError {
  readonly twirpCode: TwirpCode;

  constructor(code: TwirpCode, message: string) {
    super(TWIRP_STATUS[code] === 404 ? "not_found" : "bad_request", message);
    this.twirpCode = code;
  }
}

export const malformed = (message: string) => new TwirpError("malformed", message);
export const badRoute = (message: string) => new TwirpError("bad_route", message);

export interface TwirpAnswer {
  status: number;
  body: { code: TwirpCode; msg: string };
}

/**
 * The Twirp answer for an error, or undefined when it is not the caller's doing (the route's
 * error handler then logs it and answers `internal`, without the internal text).
 */
export function twirpAnswerFor(error: unknown): TwirpAnswer | undefined {
  let code: TwirpCode | undefined;
  if (error instanceof TwirpError) code = error.twirpCode;
  else if (error instanceof ServiceError) code = FROM_SERVICE[error.code];
  else if (isFastifyClientError(error)) code = "malformed";
  if (code === undefined) return undefined;
  return { status: TWIRP_STATUS[code], body: { code, msg: (error as Error).message } };
}

export const INTERNAL_ANSWER: TwirpAnswer = {
  status: TWIRP_STATUS.internal,
  body: { code: "internal", msg: "internal error" },
};

/** Fastify's own 4xx errors, e.g. a body over the size limit. */
function isFastifyClientError(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
}
