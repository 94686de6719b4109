import type { Rng } from '../random/rng';

/** The network between the machines and the broker: what it loses, delays and repeats. */
export interface NetworkOptions {
  /** Probability that a reading is lost on the way. */
  dropRate: number;
  /** Probability that a reading arrives twice (the copy later). */
  duplicateRate: number;
  /** Delay from reading to publication: log-normal median (s) and log-std, capped at `maxDelay` (s). */
  medianDelay: number;
  delaySigma: number;
  maxDelay: number;
  /** Link outages per machine per simulated day, and their mean duration (s); readings then are lost. */
  outagesPerDay: number;
  meanOutage: number;
}

export const DEFAULT_NETWORK: NetworkOptions = {
  dropRate: 0.01,
  duplicateRate: 0.005,
  medianDelay: 1,
  delaySigma: 1.2,
  maxDelay: 300,
  outagesPerDay: 0.5,
  meanOutage: 900,
};

export const PERFECT_NETWORK: NetworkOptions = {
  dropRate: 0,
  duplicateRate: 0,
  medianDelay: 0.001,
  delaySigma: 0,
  maxDelay: 0.001,
  outagesPerDay: 0,
  meanOutage: 1,
};

/** What happens to one reading: arrival times of its copies (empty when lost). */
export class MachineLink {
  private nextOutage: number;
  private outageEnd = -Infinity;
  readonly outages: { start: number; end: number }[] = [];

  constructor(
    private readonly options: NetworkOptions,
    private readonly rng: Rng,
  ) {
    this.nextOutage = options.outagesPerDay > 0 ? rng.exponential(options.outagesPerDay / 86400) : Infinity;
  }

  /** Whether the link is down at t (times must be asked in increasing order per machine). */
  down(t: number): { start: number; end: number } | null {
    while (t >= this.nextOutage) {
      const start = this.nextOutage;
      this.outageEnd = start + this.rng.exponential(1 / this.options.meanOutage);
      this.outages.push({ start, end: this.outageEnd });
      this.nextOutage = this.outageEnd + this.rng.exponential(this.options.outagesPerDay / 86400);
    }
    return t < this.outageEnd ? this.outages[this.outages.length - 1] : null;
  }

  /** Arrival times of a reading taken at t: none (lost), one, or two (duplicated). */
  arrivals(t: number): number[] {
    const o = this.options;
    const delay = () => Math.min(o.medianDelay * Math.exp(o.delaySigma * this.rng.normal()), o.maxDelay);
    const lost = this.rng.bernoulli(o.dropRate);
    const first = t + delay();
    const dup = this.rng.bernoulli(o.duplicateRate);
    const second = first + delay();
    if (lost) return [];
    return dup ? [first, second] : [first];
  }
}
