/**
 * GitHub's rate limits, obeyed: after a 403 or 429 that says "slow down", no request is sent for
 * that installation until GitHub's stated time. Ignoring the limits can get an App banned
 * (docs.github.com, "Rate limits for the REST API"), and a cache miss is cheap by comparison.
 *
 * A caller whose time budget reaches past the stated time waits for it; any other caller fails
 * at once. When a block ends, one request goes first and the others wait for its answer, so the
 * callers that waited do not all reach GitHub in the same instant.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { GitHubApiError } from "./errors.js";

/** GitHub's advice when a limited answer names no time: wait at least a minute. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/** Header-less limits in a row double the pause (GitHub: back off exponentially), up to this. */
export const MAX_SECONDARY_BACKOFF_MS = 16 * DEFAULT_RATE_LIMIT_WAIT_MS;
/** A wait is worth it only if at least this much of the budget is left for the request after it. */
export const MIN_ROOM_AFTER_WAIT_MS = 250;
/** Each wait ends a block or a first request, so a turn needing more than this is stuck. */
const MAX_WAITS_PER_TURN = 8;
const MS_PER_SECOND = 1000;
const HTTP_FORBIDDEN = 403;
const HTTP_TOO_MANY_REQUESTS = 429;

type Headers = Record<string, string | number | undefined>;

export interface RateLimit {
  /** Epoch ms before which no request may be sent. */
  untilMs: number;
  /** Whether GitHub named that time (retry-after, or x-ratelimit-reset with none remaining). */
  stated: boolean;
}

/**
 * The limit a response announces, or undefined when it is not one (a 403 without limit headers
 * or a limit message is a permission problem).
 */
export function rateLimitOf(
  status: number,
  headers: Headers,
  message: string,
  nowMs: number,
): RateLimit | undefined {
  if (status !== HTTP_FORBIDDEN && status !== HTTP_TOO_MANY_REQUESTS) return undefined;
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) {
      return { untilMs: nowMs + seconds * MS_PER_SECOND, stated: true };
    }
    const date = Date.parse(String(retryAfter));
    if (!Number.isNaN(date)) return { untilMs: Math.max(nowMs, date), stated: true };
  }
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) {
      return { untilMs: Math.max(nowMs, reset * MS_PER_SECOND), stated: true };
    }
    return { untilMs: nowMs + DEFAULT_RATE_LIMIT_WAIT_MS, stated: false };
  }
  // Secondary limits may come without headers; GitHub names them in the message.
  if (status === HTTP_TOO_MANY_REQUESTS || /rate limit/i.test(message)) {
    return { untilMs: nowMs + DEFAULT_RATE_LIMIT_WAIT_MS, stated: false };
  }
  return undefined;
}

interface Block extends RateLimit {
  /** Header-less limits in a row, for the back-off. */
  strikes: number;
  /** Settles when the first request sent after the block is answered. */
  firstRequest?: Promise<void>;
}

/** Called when the request a turn allowed is answered; `ok` when GitHub did not refuse it. */
export type Answered = (ok: boolean) => void;
const NOTHING_TO_RELEASE: Answered = () => undefined;

/** Per-installation "do not call before" times, shared by every caller of that installation. */
export class RateLimitGate {
  private readonly blocks = new Map<number, Block>();

  /** The time the installation is blocked until, or undefined when it may call now. */
  blocked(installationId: number, nowMs: number): number | undefined {
    const block = this.blocks.get(installationId);
    return block !== undefined && block.untilMs > nowMs ? block.untilMs : undefined;
  }

  /** Records a limited answer and returns the time before which nobody calls again. */
  block(installationId: number, limit: RateLimit, nowMs: number): number {
    const current = this.blocks.get(installationId);
    const strikes = limit.stated ? 0 : (current?.strikes ?? 0) + 1;
    const doublings = Math.max(0, strikes - 1);
    const backOffMs = Math.min(
      DEFAULT_RATE_LIMIT_WAIT_MS * 2 ** doublings,
      MAX_SECONDARY_BACKOFF_MS,
    );
    const untilMs = limit.stated ? limit.untilMs : Math.max(limit.untilMs, nowMs + backOffMs);
    if (current === undefined) {
      this.blocks.set(installationId, { untilMs, stated: limit.stated, strikes });
      return untilMs;
    }
    // Changed in place: callers waiting on this block's first request keep seeing the same one.
    current.strikes = strikes;
    if (untilMs > current.untilMs) Object.assign(current, { untilMs, stated: limit.stated });
    return current.untilMs;
  }

  /** Whether a caller giving up at `deadlineMs` can wait out the installation's block. */
  canWait(installationId: number, deadlineMs: number | undefined): boolean {
    const block = this.blocks.get(installationId);
    if (block === undefined) return true;
    if (!block.stated || deadlineMs === undefined) return false;
    return block.untilMs + MIN_ROOM_AFTER_WAIT_MS <= deadlineMs;
  }

  /**
   * Waits until the installation may call: its block is over and the first request after it
   * has been answered. Throws a rate_limited GitHubApiError at once, without waiting, when the
   * block has no stated end or ends too late for `deadlineMs`. Aborting `signal` ends the wait.
   */
  async turn(
    installationId: number,
    deadlineMs: number | undefined,
    signal: AbortSignal,
  ): Promise<Answered> {
    for (let waits = 0; waits < MAX_WAITS_PER_TURN; waits += 1) {
      const block = this.blocks.get(installationId);
      if (block === undefined) return NOTHING_TO_RELEASE;
      const nowMs = Date.now();
      if (block.untilMs > nowMs) {
        if (!this.canWait(installationId, deadlineMs)) throw notYet(block.untilMs);
        await sleep(block.untilMs - nowMs, undefined, { signal });
      } else if (block.firstRequest !== undefined) {
        await untilAborted(block.firstRequest, signal);
      } else {
        return this.goFirst(installationId, block);
      }
    }
    throw notYet(this.blocked(installationId, Date.now()) ?? Date.now());
  }

  /** Makes this caller's request the first after the block; the others wait for its answer. */
  private goFirst(installationId: number, block: Block): Answered {
    let release!: () => void;
    block.firstRequest = new Promise<void>((resolve) => (release = resolve));
    return (ok) => {
      block.firstRequest = undefined;
      // An answer that is not a limit ends the back-off; a limit has already moved the block.
      if (ok && this.blocks.get(installationId) === block && block.untilMs <= Date.now()) {
        this.blocks.delete(installationId);
      }
      release();
    };
  }
}

function notYet(untilMs: number): GitHubApiError {
  const message = "rate limited, not calling GitHub yet";
  return new GitHubApiError("rate_limited", message, undefined, untilMs);
}

/** `promise`, or the signal's reason as a rejection if it aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
