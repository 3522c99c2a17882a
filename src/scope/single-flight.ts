/**
 * Single flight: concurrent callers asking the same question share one answer. A runner's cache
 * calls arrive in bursts (a restore of many keys, parallel upload chunks), and each one must not
 * become its own walk through GitHub's API.
 *
 * Missing: sharing across replicas; each process keeps its own flights (and remembered failures).
 */
export class SingleFlight<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  /** Runs `work` unless a run for `key` is already under way, in which case joins it. */
  run(key: K, work: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /** How many distinct questions are being answered right now. */
  get size(): number {
    return this.inFlight.size;
  }
}
