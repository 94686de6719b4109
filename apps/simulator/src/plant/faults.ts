import type { Rng } from '../random/rng';
import type { SensorDef } from '../models';

/** Kinds of sensor fault the simulator injects. */
export const FAULT_KINDS = ['step', 'drift', 'stuck', 'dead', 'spikes'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A sensor fault on one machine over [start, end) simulated seconds:
 * - step: the reading is offset by `magnitude`;
 * - drift: offset by `magnitude` per simulated hour since `start`;
 * - stuck: the reading repeats the value it had when the fault began;
 * - dead: the sensor sends nothing;
 * - spikes: each reading is, with probability 0.3, off by ±`magnitude`.
 */
export interface Fault {
  machine: string;
  sensor: string;
  kind: FaultKind;
  start: number;
  end: number;
  magnitude: number;
}

/** A fault named in a plan; without a magnitude, one is chosen for the sensor. */
export type ScheduledFault = Omit<Fault, 'magnitude'> & { magnitude?: number };

/** How faults are chosen: scheduled ones, and random ones at a rate per machine per simulated day. */
export interface FaultPlan {
  scheduled: ScheduledFault[];
  randomPerDay: number;
  /** Mean duration of random faults (simulated seconds). */
  meanDuration: number;
}

export const NO_FAULTS: FaultPlan = { scheduled: [], randomPerDay: 0, meanDuration: 6 * 3600 };

/** Parses durations such as `90s`, `30m`, `6h`, `2d`, `1.5h` (a bare number is seconds). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (examples: 90s, 30m, 6h, 2d)`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

/**
 * Parses a fault plan: comma-separated items, each either `random=<faults per machine per day>`,
 * `duration=<mean duration of random faults>`, or a scheduled fault
 * `<machine>:<sensor>:<kind>@<start>[+<duration>][=<magnitude>]` with start and duration given
 * as durations from the start of the simulation (`pump-0001:vibration_rms:drift@2d+12h=0.2`).
 * `none` or an empty string means no faults.
 */
export function parseFaultPlan(text: string | undefined): FaultPlan {
  const plan: FaultPlan = { scheduled: [], randomPerDay: 0, meanDuration: NO_FAULTS.meanDuration };
  if (!text || text === 'none') return plan;
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const random = /^random=(\d+(?:\.\d+)?)$/.exec(item);
    if (random) {
      plan.randomPerDay = Number(random[1]);
      continue;
    }
    const duration = /^duration=(.+)$/.exec(item);
    if (duration) {
      plan.meanDuration = parseDuration(duration[1]);
      continue;
    }
    const m = /^([^:]+):([^:]+):([a-z]+)@([^+=]+)(?:\+([^=]+))?(?:=(-?\d+(?:\.\d+)?))?$/.exec(item);
    if (!m || !(FAULT_KINDS as readonly string[]).includes(m[3]))
      throw new Error(
        `bad fault "${item}": expected random=<per day>, duration=<d> or <machine>:<sensor>:<${FAULT_KINDS.join('|')}>@<start>[+<duration>][=<magnitude>]`,
      );
    const start = parseDuration(m[4]);
    const end = m[5] ? start + parseDuration(m[5]) : Infinity;
    plan.scheduled.push({
      machine: m[1],
      sensor: m[2],
      kind: m[3] as FaultKind,
      start,
      end,
      ...(m[6] !== undefined && { magnitude: Number(m[6]) }),
    });
  }
  return plan;
}

/** A default magnitude for a fault kind on a sensor, signed at random. */
export function defaultMagnitude(kind: FaultKind, sensor: SensorDef, rng: Rng): number {
  const sign = rng.bernoulli(0.5) ? 1 : -1;
  switch (kind) {
    case 'step':
      return sign * 0.15 * sensor.scale;
    case 'drift':
      return sign * 0.02 * sensor.scale;
    case 'spikes':
      return sign * 0.5 * sensor.scale;
    default:
      return 0;
  }
}

/** Random faults on one machine over [from, to): Poisson arrivals, random kind and sensor. */
export function randomFaults(
  machine: string,
  sensors: readonly SensorDef[],
  plan: FaultPlan,
  from: number,
  to: number,
  rng: Rng,
): Fault[] {
  const faults: Fault[] = [];
  if (plan.randomPerDay <= 0) return faults;
  const rate = plan.randomPerDay / 86400;
  for (let t = from + rng.exponential(rate); t < to; t += rng.exponential(rate)) {
    const sensor = rng.pick(sensors);
    const kind = rng.pick(FAULT_KINDS);
    faults.push({
      machine,
      sensor: sensor.name,
      kind,
      start: t,
      end: t + rng.exponential(1 / plan.meanDuration),
      magnitude: defaultMagnitude(kind, sensor, rng),
    });
  }
  return faults;
}

/** Applies the active faults to a reading; `undefined` when the sensor sends nothing. */
export class FaultApplier {
  private readonly stuckValues = new Map<Fault, number>();

  constructor(private readonly rng: Rng) {}

  apply(faults: readonly Fault[], sensor: string, t: number, value: number): number | undefined {
    let v = value;
    for (const f of faults) {
      if (f.sensor !== sensor || t < f.start || t >= f.end) continue;
      switch (f.kind) {
        case 'step':
          v += f.magnitude;
          break;
        case 'drift':
          v += (f.magnitude * (t - f.start)) / 3600;
          break;
        case 'stuck':
          if (!this.stuckValues.has(f)) this.stuckValues.set(f, v);
          v = this.stuckValues.get(f)!;
          break;
        case 'dead':
          return undefined;
        case 'spikes':
          if (this.rng.bernoulli(0.3)) v += this.rng.bernoulli(0.5) ? f.magnitude : -f.magnitude;
          break;
      }
    }
    return v;
  }
}
