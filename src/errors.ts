/**
 * The service's errors: each has a stable code, the HTTP status a client should see, and a
 * message that says what was wrong. Protocol adapters translate them into their own error shape
 * (v1 JSON `{message}`, Twirp `{code, msg}`, Azure XML), so a caller mistake is never a 500 that
 * a client would retry.
 */
export type ErrorCode =
  | "bad_request"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "already_exists"
  | "conflict"
  | "too_large"
  | "unavailable"
  | "webhook_disabled";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
  webhook_disabled: 503,
};

export class ServiceError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ServiceError";
    this.status = STATUS[code];
  }
}

export const badRequest = (message: string) => new ServiceError("bad_request", message);
export const unauthenticated = (message: string) => new ServiceError("unauthenticated", message);
export const forbidden = (message: string) => new ServiceError("forbidden", message);
export const notFound = (message: string) => new ServiceError("not_found", message);
export const alreadyExists = (message: string) => new ServiceError("already_exists", message);
export const conflict = (message: string) => new ServiceError("conflict", message);
export const tooLarge = (message: string) => new ServiceError("too_large", message);
