/**
 * Per-key coalescing with a fixed flush period: values offered for a key between two flushes are
 * merged (by default the latest wins), and each flush hands over at most one value per key. So a
 * busy machine produces at most `1000 / periodMs` events a second whatever its update rate.
 */
export class Coalescer<K, V> {
  private pending = new Map<K, V>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param periodMs flush period
   * @param flush receives the merged value of every key offered since the last flush
   * @param merge combines the pending value with a new one (default: the new one wins)
   */
  constructor(
    private readonly periodMs: number,
    private readonly flush: (key: K, value: V) => void,
    private readonly merge: (pending: V, next: V) => V = (_, next) => next,
  ) {}

  offer(key: K, value: V): void {
    const pending = this.pending.get(key);
    this.pending.set(key, pending === undefined ? value : this.merge(pending, value));
    if (!this.timer) {
      this.timer = setTimeout(() => this.drain(), this.periodMs);
      this.timer.unref();
    }
  }

  /** Flushes everything pending now. */
  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, value] of batch) this.flush(key, value);
  }

  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
