/**
 * How a call to GitHub failed, sorted so the resolver can say precisely why it fails closed.
 * The message never carries a token: only GitHub's status, its own message, or a timing.
 */
import { rateLimitOf } from "./rate-limit.js";

export type GitHubFailure =
  /** GitHub answered with an error status (404 run not found, 500, a 403 that is not a limit). */
  | "http"
  /** GitHub said to slow down (403/429 with rate-limit headers); no call is made until retryAt. */
  | "rate_limited"
  /** One request took longer than the client's request timeout. */
  | "timeout"
  /** The caller gave up (its budget ran out) and aborted the request. */
  | "aborted"
  /** No answer at all: connection refused, DNS, TLS. */
  | "unreachable"
  /** GitHub answered 2xx with a body that is not the documented shape. */
  | "bad_response";

export class GitHubApiError extends Error {
  constructor(
    readonly kind: GitHubFailure,
    message: string,
    /** HTTP status, when GitHub answered. */
    readonly status?: number,
    /** Epoch ms before which GitHub asked not to be called again. */
    readonly retryAt?: number,
    /** Whether GitHub named retryAt itself; otherwise it is this service's back-off. */
    readonly retryAtStated = false,
  ) {
    super(message);
    this.name = "GitHubApiError";
  }
}

/**
 * Sorts whatever a request threw into a GitHubApiError. `signal` is the caller's: when it fired,
 * the failure is the caller's giving up, whatever the fetch reported.
 */
export function toGitHubError(
  error: unknown,
  signal: AbortSignal | undefined,
  nowMs: number,
): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  if (signal?.aborted)
    return new GitHubApiError("aborted", "request aborted: the resolution budget ran out");
  const failure = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string> };
    cause?: unknown;
  };
  const message = typeof failure.message === "string" ? failure.message : String(error);
  if (failure.response !== undefined && typeof failure.status === "number") {
    const limit = rateLimitOf(failure.status, failure.response.headers ?? {}, message, nowMs);
    if (limit !== undefined) {
      const what = `rate limited (${failure.status})`;
      return new GitHubApiError("rate_limited", what, failure.status, limit.untilMs, limit.stated);
    }
    return new GitHubApiError("http", `HTTP ${failure.status}: ${message}`, failure.status);
  }
  if (isTimeout(error) || isTimeout(failure.cause))
    return new GitHubApiError("timeout", "request timed out");
  return new GitHubApiError("unreachable", message);
}

function isTimeout(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { name?: unknown }).name === "TimeoutError"
  );
}
