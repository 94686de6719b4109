/**
 * What `npm run eval:alerts` compares: alerting's rules (detector + AlertTracker lifecycle, per machine)
 * on the twin's messages, and fixed thresholds on the raw sensors (with the same lifecycle), and how
 * their alerts are scored against the simulator's ground truth.
 */
import type { TwinMessage } from '@continuum/contracts';
import { createDetector, type Detector } from '../../apps/alerting/src/detectors/detectors';
import { AlertTracker, type LifecycleAction } from '../../apps/alerting/src/lifecycle/alert-tracker';
import type { AlertRule } from '../../apps/alerting/src/rules/alert-rule';

/** Alerts one method raised on one machine (epoch ms of each raise). */
export type Raises = number[];

const countRaises = (actions: readonly LifecycleAction[], into: Raises) => {
  for (const a of actions) if (a.type === 'raise') into.push(a.at);
};

/** One alerting rule on one machine, as AlertsService runs it (detector, then tracker at the message time). */
export class RuleWatch {
  private readonly detector: Detector;
  private readonly tracker: AlertTracker;
  readonly raises: Raises = [];

  constructor(rule: AlertRule) {
    this.detector = createDetector(rule);
    this.tracker = new AlertTracker(rule);
  }

  observe(message: TwinMessage): void {
    const out = this.detector.update(message);
    countRaises(out ? this.tracker.observe(out.value, message.ts) : this.tracker.tick(message.ts), this.raises);
  }

  tick(now: number): void {
    countRaises(this.tracker.tick(now), this.raises);
  }
}

/** A sensor's failure threshold and noise (the simulator's sensor definition). */
export interface ThresholdSensor {
  name: string;
  noiseStd: number;
  failureThreshold: { above?: number; below?: number };
}

/**
 * The plain fixed-threshold baseline: an alarm when a raw reading of a sensor with a failure threshold
 * comes within `margin` of it — at or above `(1 − margin) · above`, or at or below `(1 + margin) · below`
 * (margin 0: the failure threshold itself). Same lifecycle as a rule: the condition holds from a reading
 * beyond the level until one back inside by one noise standard deviation (deadband), auto-clear after
 * 10 minutes, so a noisy value near the level raises one alarm, not one per reading. A "below" level is
 * not applied to readings under half the threshold (a stopped compressor reads 0 bar: an operator's
 * alarm is gated by "running").
 */
export class ThresholdWatch {
  private readonly tracker = new AlertTracker({
    raiseAt: 0,
    clearAt: -1,
    severity: 'major',
    minDurationMs: 0,
    escalateAfterMs: null,
    escalateTo: null,
    autoClearMs: 10 * 60_000,
  });
  private readonly exceedance = new Map<string, number>();
  readonly raises: Raises = [];

  constructor(
    private readonly sensors: readonly ThresholdSensor[],
    readonly margin: number,
  ) {}

  /** The level of a sensor at this margin. */
  static level(s: ThresholdSensor, margin: number): { above?: number; below?: number } {
    const { above, below } = s.failureThreshold;
    return {
      ...(above !== undefined && { above: (1 - margin) * above }),
      ...(below !== undefined && { below: (1 + margin) * below }),
    };
  }

  observe(timeMs: number, values: Record<string, number>): void {
    let seen = false;
    for (const s of this.sensors) {
      const v = values[s.name];
      if (v === undefined) continue;
      const level = ThresholdWatch.level(s, this.margin);
      let e = -Infinity;
      if (level.above !== undefined) e = Math.max(e, v - level.above);
      if (level.below !== undefined && v >= 0.5 * s.failureThreshold.below!) e = Math.max(e, level.below - v);
      this.exceedance.set(s.name, e / s.noiseStd);
      seen = true;
    }
    if (!seen) return countRaises(this.tracker.tick(timeMs), this.raises);
    const value = Math.max(...this.exceedance.values());
    countRaises(this.tracker.observe(value, timeMs), this.raises);
  }

  tick(now: number): void {
    countRaises(this.tracker.tick(now), this.raises);
  }
}

/** Ground truth of one machine as the score needs it (epoch ms). */
export interface Truth {
  /** Failure time, null when the machine did not fail within the run. */
  failedAt: number | null;
  /** Onset of the degradation that failed it (null for a machine that did not fail). */
  onsetAt: number | null;
  /** Censored: designed to wear out, did not fail within the run (excluded from the score). */
  censored: boolean;
  /** Time it was watched after the warm-up (ms). */
  watchedMs: number;
}

export interface Score {
  name: string;
  tp: number;
  fp: number;
  failures: number;
  precision: number;
  recall: number;
  meanLeadH: number;
  medianLeadH: number;
  /** Alerts raised on machines that did not fail, per machine-day watched. */
  falseAlarmsPerMachineDay: number;
  /** Healthy machines with at least one alert. */
  healthyAlerted: number;
}

/** Median of sorted values. */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/**
 * A machine's first alert is a true positive when it comes at or after the onset and before the
 * failure; a first alert on a machine that did not fail, or before the onset, is a false positive.
 * Lead time: failure − first alert, over the true positives.
 */
export function score(name: string, truths: readonly Truth[], raises: readonly Raises[]): Score {
  let tp = 0;
  let fp = 0;
  let failures = 0;
  let falseAlarms = 0;
  let healthyMs = 0;
  let healthyAlerted = 0;
  const leads: number[] = [];
  truths.forEach((t, i) => {
    if (t.censored) return;
    const r = raises[i];
    if (t.failedAt === null) {
      healthyMs += t.watchedMs;
      falseAlarms += r.length;
      if (r.length > 0) {
        healthyAlerted++;
        fp++;
      }
      return;
    }
    failures++;
    const first = r.find((at) => at < t.failedAt!);
    if (first === undefined) return;
    if (t.onsetAt !== null && first >= t.onsetAt) {
      tp++;
      leads.push(t.failedAt - first);
    } else fp++;
  });
  leads.sort((a, b) => a - b);
  const hour = 3_600_000;
  return {
    name,
    tp,
    fp,
    failures,
    precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
    recall: failures > 0 ? tp / failures : NaN,
    meanLeadH: leads.length ? leads.reduce((a, b) => a + b, 0) / leads.length / hour : NaN,
    medianLeadH: leads.length ? median(leads) / hour : NaN,
    falseAlarmsPerMachineDay: healthyMs > 0 ? falseAlarms / (healthyMs / (24 * hour)) : NaN,
    healthyAlerted,
  };
}
