import type { TwinMessage } from '@continuum/contracts';

/**
 * Seeded random streams for the detector tests and the evaluation: a small PRNG (mulberry32),
 * Gaussian and exponential draws, and irregular reading times.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** Uniform on [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

/**
 * Irregular reading times over [start, end): a Poisson process at `ratePerHour`, with bursts (5x
 * the rate for about 2 minutes, a few times a day) and stops (no readings for about an hour,
 * a few times a day), like the simulator's machines.
 */
export function irregularTimes(rng: SeededRandom, start: number, end: number, ratePerHour: number): number[] {
  const times: number[] = [];
  const meanGapMs = 3_600_000 / ratePerHour;
  let t = start;
  let burstUntil = -Infinity;
  while (t < end) {
    const u = rng.next();
    if (u < 0.002)
      t += rng.exponential(3_600_000); // a stop
    else if (u < 0.004) burstUntil = t + rng.exponential(120_000);
    t += rng.exponential(t < burstUntil ? meanGapMs / 5 : meanGapMs);
    if (t < end) times.push(t);
  }
  return times;
}

/** A twin message of machine `m` with these residuals (the rest neutral), for detector tests. */
export const twinMessage = (
  ts: number,
  residuals: Record<string, number>,
  extra: Partial<TwinMessage> = {},
): TwinMessage => ({
  plantId: 'p',
  machineId: 'm',
  ts,
  modelVersion: 'test',
  prediction: {},
  residuals,
  anomalyScore: 1,
  nfe: 0,
  solverError: 0,
  ...extra,
});
