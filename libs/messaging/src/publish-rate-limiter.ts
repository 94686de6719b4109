/**
 * Token buckets per key (a device): each holds up to `burst` tokens and refills at `perSecond`
 * tokens a second; a publish takes one. Keys unused for a minute after their bucket refilled are
 * forgotten, so the map stays as large as the set of recently active devices.
 */
export class PublishRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error('PublishRateLimiter: perSecond > 0 and burst >= 1');
  }

  /** Takes one token from `key`'s bucket; false (and nothing taken) when it is empty. */
  take(key: string, now = Date.now()): boolean {
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const full = (this.burst / this.perSecond) * 1000 + 60_000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at > full) this.buckets.delete(key);
  }
}
