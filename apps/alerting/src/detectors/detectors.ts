import { referenceFromParams, restrictReference, type TwinMessage } from '@continuum/contracts';
import type { AlertRule } from '../rules/alert-rule';
import { DEFAULT_CUSUM, TimeAwareCusum, type CusumParams } from './cusum';
import { DEFAULT_MEWMA, ResidualMewmaDetectorCore } from './mewma';

/** What a detector says after a twin update: its value (compared with the rule's raise/clear levels). */
export interface DetectorOutput {
  value: number;
  /** The sensor that drives the value, when one does. */
  sensor: string | null;
  detail: Record<string, unknown>;
}

/**
 * A stateful test on one machine's twin updates. `update` returns null when the message carries
 * nothing for it (a forecast detector and a message without a forecast, say): the rule is not
 * evaluated then.
 */
export interface Detector {
  update(message: TwinMessage): DetectorOutput | null;
}

function cusumParams(params: Record<string, number>, defaults: CusumParams): CusumParams {
  return {
    k: params.k ?? defaults.k,
    leakPerHour: params.leakPerHour ?? defaults.leakPerHour,
    clip: params.clip ?? defaults.clip,
    cap: params.cap ?? defaults.cap,
    twoSided: defaults.twoSided,
  };
}

/**
 * Divergence between a machine and its twin: one time-aware two-sided CUSUM per sensor on the
 * twin's normalised residuals (z-scores); the value is the largest statistic over the sensors.
 * Params: k, leakPerHour, clip, cap (see {@link CusumParams}).
 */
export class ResidualCusumDetector implements Detector {
  private readonly perSensor = new Map<string, TimeAwareCusum>();
  private readonly params: CusumParams;

  constructor(
    params: Record<string, number>,
    private readonly sensors: readonly string[] | null,
  ) {
    this.params = cusumParams(params, DEFAULT_CUSUM);
  }

  update(message: TwinMessage): DetectorOutput | null {
    let seen = false;
    for (const [sensor, z] of Object.entries(message.residuals)) {
      if (this.sensors && !this.sensors.includes(sensor)) continue;
      let cusum = this.perSensor.get(sensor);
      if (!cusum) this.perSensor.set(sensor, (cusum = new TimeAwareCusum(this.params)));
      cusum.update(z, message.ts);
      seen = true;
    }
    if (!seen) return null;
    let best: { sensor: string; cusum: TimeAwareCusum } | null = null;
    for (const [sensor, cusum] of this.perSensor) if (!best || cusum.value > best.cusum.value) best = { sensor, cusum };
    return {
      value: best!.cusum.value,
      sensor: best!.sensor,
      detail: { direction: best!.cusum.direction, residual: message.residuals[best!.sensor] ?? null },
    };
  }
}

/**
 * Divergence as a pattern across sensors: the Mahalanobis distance D² of the time-aware averages of
 * the residuals from a reference of healthy machines (see mewma.ts). Params: `mean.<sensor>` and
 * `cov.<a>.<b>` (the reference, required: `npm run alerting:calibrate` fits one from stored residuals),
 * tauMinutes (60), clip (8), maxStepMinutes (15). `sensors` restricts the test to some of the
 * reference's sensors.
 */
export class ResidualMewmaDetector implements Detector {
  private readonly core: ResidualMewmaDetectorCore;

  constructor(params: Record<string, number>, sensors: readonly string[] | null) {
    this.core = new ResidualMewmaDetectorCore(restrictReference(referenceFromParams(params), sensors), {
      tauMinutes: params.tauMinutes ?? DEFAULT_MEWMA.tauMinutes,
      clip: params.clip ?? DEFAULT_MEWMA.clip,
      maxStepMinutes: params.maxStepMinutes ?? DEFAULT_MEWMA.maxStepMinutes,
    });
  }

  update(message: TwinMessage): DetectorOutput | null {
    const out = this.core.update(message);
    if (!out) return null;
    return { value: out.d2, sensor: out.sensor, detail: { deviations: this.core.deviations } };
  }
}

/**
 * Divergence on the twin's anomaly score: a one-sided time-aware CUSUM on
 * (score − baseline) / scale. Params: baseline (default 1), scale (default 1), k, leakPerHour, clip, cap.
 * The defaults suit a score that is a mean squared z-score (about 1 while healthy).
 */
export class AnomalyScoreCusumDetector implements Detector {
  private readonly cusum: TimeAwareCusum;
  private readonly baseline: number;
  private readonly scale: number;

  constructor(params: Record<string, number>) {
    this.cusum = new TimeAwareCusum(cusumParams(params, { ...DEFAULT_CUSUM, twoSided: false }));
    this.baseline = params.baseline ?? 1;
    this.scale = params.scale && params.scale > 0 ? params.scale : 1;
  }

  update(message: TwinMessage): DetectorOutput {
    const value = this.cusum.update((message.anomalyScore - this.baseline) / this.scale, message.ts);
    return { value, sensor: null, detail: { anomalyScore: message.anomalyScore } };
  }

  reset(): void {
    this.cusum.reset();
  }
}

/**
 * Probability that the remaining useful life is at most `limitMs`, read off the quantiles
 * p10/p50/p90 by linear interpolation of the distribution function (0.1, 0.5, 0.9 at the
 * quantiles; 0 at zero life, 1 at p90 + (p90 − p50)).
 *
 * The twin's quantiles are censored at its forecast horizon: a sample that does not cross within
 * the horizon counts as crossing at it, so a quantile at (or beyond) `horizonMs` only says "not within
 * the horizon". Such points (and the extrapolated tail beyond the horizon) are left out, and past the
 * last point the forecast saw the probability is held at that point's level — a lower bound, since
 * nothing is known about later crossings. (Reading a censored p90 = horizon as a real quantile gave
 * P(RUL ≤ 7 d) = 1 from a 24 h forecast in which only 10% of the samples crossed.)
 */
export function probabilityRulWithin(
  rul: { p10: number; p50: number; p90: number },
  limitMs: number,
  horizonMs = Infinity,
): number {
  const all: [number, number][] = [
    [0, 0],
    [Math.max(rul.p10, 0), 0.1],
    [Math.max(rul.p50, rul.p10, 0), 0.5],
    [Math.max(rul.p90, rul.p50, 0), 0.9],
    [Math.max(rul.p90 + (rul.p90 - rul.p50), rul.p90, 0), 1],
  ];
  const points = all.filter(([x], i) => i === 0 || x < horizonMs);
  if (limitMs <= 0) return rul.p10 <= 0 ? 0.1 : 0;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    if (limitMs <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (limitMs - x0)) / (x1 - x0);
  }
  return points[points.length - 1][1];
}

/**
 * Predictive maintenance: the twin's forecast. The value is the largest probability that a watched
 * sensor crosses its failure threshold within the forecast horizon, or, when `rulLimitMs` is set,
 * the probability that the remaining useful life is below it (if larger). Messages without a
 * forecast are not evaluated. Params: rulLimitMs (default 7 days; 0 turns the RUL test off).
 */
export class ForecastDetector implements Detector {
  private readonly rulLimitMs: number;

  constructor(
    params: Record<string, number>,
    private readonly sensors: readonly string[] | null,
  ) {
    this.rulLimitMs = params.rulLimitMs ?? 7 * 86_400_000;
  }

  update(message: TwinMessage): DetectorOutput | null {
    const forecast = message.forecast;
    if (!forecast) return null;
    let value = 0;
    let sensor: string | null = null;
    for (const [name, p] of Object.entries(forecast.crossingProbability)) {
      if (this.sensors && !this.sensors.includes(name)) continue;
      if (p > value) [value, sensor] = [p, name];
    }
    let rulProbability: number | null = null;
    if (forecast.rulMs && this.rulLimitMs > 0) {
      rulProbability = probabilityRulWithin(forecast.rulMs, this.rulLimitMs, forecast.horizonMs);
      if (rulProbability > value) value = rulProbability;
    }
    return {
      value,
      sensor,
      detail: {
        horizonMs: forecast.horizonMs,
        rulMs: forecast.rulMs,
        crossingProbability: forecast.crossingProbability,
        rulProbability,
        rulLimitMs: this.rulLimitMs,
      },
    };
  }
}

/**
 * Persistence in the machine's own time: the wrapped detector's condition (value at or above the
 * rule's `raiseAt`, lasting until it falls below `clearAt`: the tracker's hysteresis) must have
 * lasted `holdMs` of reading time before the value reaches the lifecycle; until then the value is
 * held just below `raiseAt`. A start-up transient or a load change that the twin follows within
 * minutes does not raise; a fault or wear persists. (On the evaluation fleet, a 30-minute hold took
 * the divergence rule's false alarms from 9 of 19 healthy machines to 0 at the same recall:
 * docs/benchmarks.md, issue 11.)
 *
 * Unlike the rule's `minDurationMs` (the process clock, which escalation and auto-clear need), this
 * counts the readings' timestamps: it means the same in live operation, in a replay of history and
 * in an accelerated simulation.
 */
export class PersistenceFilter implements Detector {
  /** Reading time when the current episode began; null while none. */
  private since: number | null = null;

  constructor(
    private readonly inner: Detector,
    readonly holdMs: number,
    private readonly raiseAt: number,
    private readonly clearAt: number,
  ) {}

  update(message: TwinMessage): DetectorOutput | null {
    const out = this.inner.update(message);
    if (!out) return null;
    if (out.value < this.clearAt) this.since = null;
    else if (out.value >= this.raiseAt) this.since ??= message.ts;
    if (out.value < this.raiseAt || this.since === null || message.ts - this.since >= this.holdMs) return out;
    const below = this.raiseAt - Math.max(Math.abs(this.raiseAt) * 1e-9, 1e-12);
    return { ...out, value: below, detail: { ...out.detail, holding: { since: this.since, value: out.value } } };
  }
}

/**
 * A rule kept to one model version: messages of other versions are not evaluated (the wrapped
 * detector never sees them; see {@link AlertRule.modelVersion}).
 */
export class ModelVersionFilter implements Detector {
  constructor(
    private readonly inner: Detector,
    readonly modelVersion: string,
  ) {}

  update(message: TwinMessage): DetectorOutput | null {
    return message.modelVersion === this.modelVersion ? this.inner.update(message) : null;
  }
}

/** What of a rule its detector depends on: a change of any of these starts the detector afresh. */
export type DetectorSpec = Pick<AlertRule, 'detector' | 'params' | 'sensors' | 'raiseAt' | 'clearAt'> &
  Partial<Pick<AlertRule, 'modelVersion'>>;

/** A key of {@link DetectorSpec}: equal for rules whose detectors would behave the same. */
export const detectorSpecKey = (rule: DetectorSpec): string =>
  JSON.stringify([rule.detector, rule.params, rule.sensors, rule.raiseAt, rule.clearAt, rule.modelVersion ?? null]);

/**
 * The detector a rule runs (a fresh one per machine). Params common to every detector:
 * holdMinutes (0: off), see {@link PersistenceFilter}; a rule's modelVersion keeps it to that
 * model's messages ({@link ModelVersionFilter}).
 */
export function createDetector(rule: DetectorSpec): Detector {
  const inner = ((): Detector => {
    switch (rule.detector) {
      case 'residual-cusum':
        return new ResidualCusumDetector(rule.params, rule.sensors);
      case 'anomaly-cusum':
        return new AnomalyScoreCusumDetector(rule.params);
      case 'residual-mewma':
        return new ResidualMewmaDetector(rule.params, rule.sensors);
      case 'forecast':
        return new ForecastDetector(rule.params, rule.sensors);
    }
  })();
  const holdMinutes = rule.params.holdMinutes ?? 0;
  const held = holdMinutes > 0 ? new PersistenceFilter(inner, holdMinutes * 60_000, rule.raiseAt, rule.clearAt) : inner;
  return rule.modelVersion ? new ModelVersionFilter(held, rule.modelVersion) : held;
}
