/**
 * GitHub's rate limits, obeyed: after a 403 or 429 that says "slow down", no request is sent for
 * that installation until GitHub's stated time. Ignoring the limits can get an App banned
 * (docs.github.com, "Rate limits for the REST API"), and a cache miss is cheap by comparison.
 */

/** GitHub's advice when a limited answer names no time: wait at least a minute. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
const MS_PER_SECOND = 1000;

type Headers = Record<string, string | number | undefined>;

/**
 * When a response means "rate limited", the epoch ms until which to stay quiet; otherwise
 * undefined (a 403 without limit headers is a permission problem, not a limit).
 */
export function rateLimitedUntil(status: number, headers: Headers, message: string, nowMs: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return nowMs + seconds * MS_PER_SECOND;
    const date = Date.parse(String(retryAfter));
    if (!Number.isNaN(date)) return Math.max(nowMs, date);
  }
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    return Number.isFinite(reset) ? Math.max(nowMs, reset * MS_PER_SECOND) : nowMs + DEFAULT_RATE_LIMIT_WAIT_MS;
  }
  // Secondary limits may come without headers; GitHub names them in the message.
  if (status === 429 || /rate limit/i.test(message)) return nowMs + DEFAULT_RATE_LIMIT_WAIT_MS;
  return undefined;
}

/** Per-installation "do not call before" times. */
export class RateLimitGate {
  private readonly blockedUntil = new Map<number, number>();

  /** The time the installation is blocked until, or undefined when it may call now. */
  blocked(installationId: number, nowMs: number): number | undefined {
    const until = this.blockedUntil.get(installationId);
    if (until === undefined) return undefined;
    if (until <= nowMs) {
      this.blockedUntil.delete(installationId);
      return undefined;
    }
    return until;
  }

  block(installationId: number, untilMs: number): void {
    const current = this.blockedUntil.get(installationId) ?? 0;
    this.blockedUntil.set(installationId, Math.max(current, untilMs));
  }
}
