/**
 * Failed resolutions, remembered for a short while (GHA_CACHE_NEGATIVE_CACHE_MS) so that a burst
 * of calls after a failure is not a burst of API calls.
 */

/** Bound on remembered failures; the oldest go first, so memory stays flat under abuse. */
export const MAX_REMEMBERED_FAILURES = 10_000;

interface Remembered<V> {
  value: V;
  expiresAtMs: number;
}

export class NegativeCache<V> {
  private readonly entries = new Map<string, Remembered<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    // Re-inserting moves the key to the end, so iteration order stays oldest-first.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs: this.now() + this.ttlMs });
    while (this.entries.size > MAX_REMEMBERED_FAILURES) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
