/**
 * The moment a caller stops waiting for GitHub, carried with the AbortSignal it hands the client.
 * The resolver's budget code sets it; the client reads it to decide whether waiting out a rate
 * limit can still end in an answer. A signal without one has no budget to spend, so never waits.
 */
const deadlines = new WeakMap<AbortSignal, number>();

/** Records that `signal`'s owner gives up at `deadlineMs` (epoch ms). */
export function setDeadline(signal: AbortSignal, deadlineMs: number): void {
  deadlines.set(signal, deadlineMs);
}

/** The epoch ms at which the signal's owner gives up, or undefined when it named none. */
export function deadlineOf(signal: AbortSignal): number | undefined {
  return deadlines.get(signal);
}
