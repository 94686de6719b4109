import type { TwinForecastSummary } from '@continuum/contracts';
import type { BankForecast } from './model-bank';

/** Failure thresholds of a machine's sensors (MachineEntity.sensors[].failureThreshold). */
export type Thresholds = Record<string, { above?: number; below?: number }>;

/** A machine's forecast: quantile trajectories per sensor and the remaining-useful-life distribution. */
export interface MachineForecast {
  machineId: string;
  modelVersion: string;
  /** Twin time the forecast starts from (epoch ms). */
  fromMs: number;
  horizonMs: number;
  samples: number;
  /** Epoch ms of each point. */
  times: number[];
  sensors: Record<string, { p10: number[]; p50: number[]; p90: number[] }>;
  /**
   * Time from `fromMs` until the first predicted threshold crossing (any sensor), quantiles over the
   * samples; a sample that does not cross within the horizon counts as crossing after it, so a
   * quantile equal to `horizonMs` means "not within the horizon". Null when fewer than 10% of the
   * samples cross.
   */
  rulMs: { p10: number; p50: number; p90: number } | null;
  /** Per sensor with a threshold: the fraction of samples crossing it within the horizon. */
  crossingProbability: Record<string, number>;
  /**
   * Every sample's time from `fromMs` to its first crossing (any sensor), ascending; Infinity for a
   * sample that does not cross within the horizon. The distribution `rulMs` summarises.
   */
  rulSamplesMs: number[];
  nfe: number;
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo];
  const b = sorted[hi];
  if (!Number.isFinite(a) || !Number.isFinite(b)) return pos - lo < 0.5 || lo === hi ? a : b;
  return a + (b - a) * (pos - lo);
}

function crosses(v: number, th: { above?: number; below?: number }): boolean {
  return (th.above !== undefined && v > th.above) || (th.below !== undefined && v < th.below);
}

/**
 * Turns a bank's sampled trajectories into per-machine forecasts: p10/p50/p90 of the predictive draws
 * per sensor and time; RUL from each sample's mean trajectory (latent uncertainty: observation noise
 * alone does not make a machine fail), linearly interpolated between grid points.
 */
export function summariseForecast(
  f: BankForecast,
  sensors: readonly string[],
  context: {
    fromMs: (id: string) => number;
    thresholds: (id: string) => Thresholds;
    timeScaleMs: number;
    modelVersion: string;
  },
): MachineForecast[] {
  const { M, S, K } = f;
  const D = sensors.length;
  const offsetsMs = Array.from(f.offsetsUnits, (u) => u * context.timeScaleMs);
  const horizonMs = offsetsMs[K - 1];
  const out: MachineForecast[] = [];
  const col = new Float64Array(S);
  for (let m = 0; m < M; m++) {
    const id = f.machineIds[m];
    const fromMs = context.fromMs(id);
    const perSensor: MachineForecast['sensors'] = {};
    for (let d = 0; d < D; d++) {
      const q = { p10: [] as number[], p50: [] as number[], p90: [] as number[] };
      for (let k = 0; k < K; k++) {
        for (let s = 0; s < S; s++) col[s] = f.draws[((m * S + s) * K + k) * D + d];
        col.sort();
        q.p10.push(quantile(col, 0.1));
        q.p50.push(quantile(col, 0.5));
        q.p90.push(quantile(col, 0.9));
      }
      perSensor[sensors[d]] = q;
    }
    const thresholds = context.thresholds(id);
    const crossing: Record<string, number> = {};
    const rul = new Float64Array(S).fill(Infinity);
    sensors.forEach((name, d) => {
      const th = thresholds[name];
      if (!th || (th.above === undefined && th.below === undefined)) return;
      let crossed = 0;
      for (let s = 0; s < S; s++) {
        for (let k = 0; k < K; k++) {
          const v = f.mean[((m * S + s) * K + k) * D + d];
          if (!crosses(v, th)) continue;
          let at = offsetsMs[k];
          if (k > 0) {
            const prev = f.mean[((m * S + s) * K + k - 1) * D + d];
            const limit = th.above !== undefined && v > th.above ? th.above : th.below!;
            const frac = (limit - prev) / (v - prev);
            if (Number.isFinite(frac)) at = offsetsMs[k - 1] + Math.min(Math.max(frac, 0), 1) * (at - offsetsMs[k - 1]);
          }
          rul[s] = Math.min(rul[s], at);
          crossed++;
          break;
        }
      }
      crossing[name] = crossed / S;
    });
    const sortedRul = Float64Array.from(rul).sort();
    const crossedAny = sortedRul.filter(Number.isFinite).length;
    const censor = (v: number) => (Number.isFinite(v) ? v : horizonMs);
    out.push({
      machineId: id,
      modelVersion: context.modelVersion,
      fromMs,
      horizonMs,
      samples: S,
      times: offsetsMs.map((o) => fromMs + o),
      sensors: perSensor,
      rulMs:
        crossedAny >= Math.max(1, 0.1 * S)
          ? {
              p10: censor(quantile(sortedRul, 0.1)),
              p50: censor(quantile(sortedRul, 0.5)),
              p90: censor(quantile(sortedRul, 0.9)),
            }
          : null,
      crossingProbability: crossing,
      rulSamplesMs: Array.from(sortedRul),
      nfe: f.nfe,
    });
  }
  return out;
}

/** The summary carried in twin messages. */
export function forecastSummary(f: MachineForecast): TwinForecastSummary {
  return { horizonMs: f.horizonMs, samples: f.samples, rulMs: f.rulMs, crossingProbability: f.crossingProbability };
}
