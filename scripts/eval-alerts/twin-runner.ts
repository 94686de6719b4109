/**
 * apps/twin's per-reading work without its I/O, for the evaluation: one {@link ModelBank} per asset
 * type (the shipped model of `models/default`), readings applied in rounds (round r holds every
 * machine's r-th reading: one batched solve per round, as `TwinProcessor` does), each update turned
 * into a `TwinMessage` with the same fields the twin publishes (prediction, residuals of the sensors
 * that reported, anomaly score, solver figures), and forecasts with `ModelBank.forecast` +
 * `summariseForecast` + `forecastSummary` against the machines' failure thresholds.
 */
import type { TwinMessage } from '@continuum/contracts';
import {
  DEFAULT_SOLVER,
  forecastSummary,
  ModelBank,
  summariseForecast,
  type Thresholds,
  type TwinModel,
} from '@continuum/neural';

/** A reading as the twin gets it: the sensors one machine reported at one time (epoch ms). */
export interface EvalReading {
  machineId: string;
  timeMs: number;
  values: Record<string, number>;
}

/** The twin's forecast settings (TWIN_FORECAST_HORIZON_MS, _SAMPLES, _POINTS defaults). */
export interface ForecastSettings {
  horizonMs: number;
  samples: number;
  points: number;
}

export const TWIN_FORECAST_DEFAULTS: ForecastSettings = { horizonMs: 86_400_000, samples: 32, points: 24 };

/** The twins of one asset type's machines. */
export class TwinRunner {
  readonly bank: ModelBank;
  nfe = 0;
  updates = 0;

  constructor(
    readonly model: TwinModel,
    private readonly plantId: string,
    private readonly thresholds: Thresholds,
  ) {
    this.bank = new ModelBank(model, DEFAULT_SOLVER);
  }

  /**
   * Applies readings (any order, several per machine) and returns one message per reading, each
   * machine's in time order.
   */
  process(readings: readonly EvalReading[]): TwinMessage[] {
    const { sensors } = this.model;
    const D = sensors.length;
    const perMachine = new Map<string, EvalReading[]>();
    for (const r of readings) {
      let list = perMachine.get(r.machineId);
      if (!list) perMachine.set(r.machineId, (list = []));
      list.push(r);
    }
    const rounds: EvalReading[][] = [];
    for (const list of perMachine.values()) {
      list.sort((a, b) => a.timeMs - b.timeMs);
      list.forEach((r, i) => (rounds[i] ??= []).push(r));
    }
    const out: TwinMessage[] = [];
    for (const round of rounds) {
      const B = round.length;
      const slots = new Int32Array(B);
      const timesMs = new Float64Array(B);
      const values = new Float64Array(B * D);
      const mask = new Float32Array(B * D);
      round.forEach((r, i) => {
        slots[i] = this.bank.slot(r.machineId);
        timesMs[i] = r.timeMs;
        for (const [name, v] of Object.entries(r.values)) {
          const d = sensors.indexOf(name);
          if (d < 0 || !Number.isFinite(v)) continue;
          values[i * D + d] = v;
          mask[i * D + d] = 1;
        }
      });
      const step = this.bank.step({ slots, timesMs, values, mask });
      this.nfe += step.nfe;
      round.forEach((r, i) => {
        const prediction: TwinMessage['prediction'] = {};
        const residuals: TwinMessage['residuals'] = {};
        for (let d = 0; d < D; d++) {
          const k = i * D + d;
          prediction[sensors[d]] = { mean: step.mean[k], std: step.std[k] };
          if (mask[k]) residuals[sensors[d]] = step.residuals[k];
        }
        out.push({
          plantId: this.plantId,
          machineId: r.machineId,
          ts: r.timeMs,
          modelVersion: this.model.version,
          prediction,
          residuals,
          anomalyScore: step.anomaly[i],
          nfe: step.nfe,
          solverError: step.errorEstimate,
        });
      });
    }
    this.updates += out.length;
    return out;
  }

  /** Forecast summaries (as twin messages carry them) of machines that have a twin. */
  forecast(
    machineIds: readonly string[],
    settings: ForecastSettings,
    rand: () => number,
  ): Map<string, NonNullable<TwinMessage['forecast']>> {
    const ids = machineIds.filter((id) => !Number.isNaN(this.bank.timeOf(id)));
    const result = new Map<string, NonNullable<TwinMessage['forecast']>>();
    if (ids.length === 0) return result;
    const f = this.bank.forecast(
      ids,
      settings.horizonMs / this.model.timeScaleMs,
      settings.points,
      settings.samples,
      rand,
    );
    this.nfe += f.nfe;
    const summaries = summariseForecast(f, this.model.sensors, {
      fromMs: (id) => this.bank.timeOf(id),
      thresholds: () => this.thresholds,
      timeScaleMs: this.model.timeScaleMs,
      modelVersion: this.model.version,
    });
    for (const s of summaries) result.set(s.machineId, forecastSummary(s));
    return result;
  }

  dispose(): void {
    this.bank.dispose();
  }
}
