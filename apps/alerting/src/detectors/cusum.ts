/**
 * A time-aware CUSUM (Page 1954, "Continuous inspection schemes", Biometrika 41) on normalised
 * residuals that arrive at irregular times.
 *
 * Page's two-sided CUSUM accumulates evidence of a mean shift reading by reading:
 * `S⁺ = max(0, S⁺ + x − k)`, `S⁻ = max(0, S⁻ − x − k)`, and alarms when either exceeds h. With
 * irregular sampling a pure per-reading statistic keeps stale evidence forever across a long gap
 * (a machine stopped overnight wakes up half-way to an alarm). Here each side also leaks
 * `leakPerHour · Δt` for the time elapsed since the previous reading, so evidence expires with
 * time, not with the number of readings; while readings are dense the leak is negligible and the
 * statistic is Page's. Readings are clipped to ±clip (one wild reading is not a fault) and the
 * statistic is capped (so that it falls back below a clear level soon after a fault ends).
 */
export interface CusumParams {
  /** Allowance per reading, in standard deviations: detects shifts larger than about 2k. */
  k: number;
  /** Evidence forgotten per hour of elapsed time (same units as the statistic). */
  leakPerHour: number;
  /** Readings are clipped to [-clip, clip] before they are accumulated. */
  clip: number;
  /** The statistic never exceeds this. */
  cap: number;
  /** Both directions (residuals); false watches increases only (anomaly scores). */
  twoSided: boolean;
}

export const DEFAULT_CUSUM: CusumParams = { k: 0.5, leakPerHour: 2, clip: 8, cap: 30, twoSided: true };

export class TimeAwareCusum {
  upper = 0;
  lower = 0;
  private lastTs: number | null = null;

  constructor(readonly params: CusumParams = DEFAULT_CUSUM) {}

  /**
   * Folds in one reading.
   * @param x the normalised residual (a z-score: mean 0, standard deviation 1 while healthy)
   * @param ts its time (epoch ms); readings older than the previous one leak nothing
   * @returns the statistic after the reading (see {@link value})
   */
  update(x: number, ts: number): number {
    const { k, leakPerHour, clip, cap, twoSided } = this.params;
    const dtHours = this.lastTs === null ? 0 : Math.max(0, ts - this.lastTs) / 3_600_000;
    this.lastTs = this.lastTs === null ? ts : Math.max(this.lastTs, ts);
    if (!Number.isFinite(x)) return this.value;
    const c = Math.max(-clip, Math.min(clip, x));
    const leak = leakPerHour * dtHours;
    this.upper = Math.min(cap, Math.max(0, this.upper - leak + c - k));
    this.lower = twoSided ? Math.min(cap, Math.max(0, this.lower - leak - c - k)) : 0;
    return this.value;
  }

  /** The larger side: 0 while healthy, growing by about (|shift| − k) per reading under a shift. */
  get value(): number {
    return Math.max(this.upper, this.lower);
  }

  /** Which side is larger: the residuals run above ('up') or below ('down') the twin. */
  get direction(): 'up' | 'down' {
    return this.upper >= this.lower ? 'up' : 'down';
  }

  reset(): void {
    this.upper = 0;
    this.lower = 0;
  }
}
