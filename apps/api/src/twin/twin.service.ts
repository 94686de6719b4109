import { randomInt } from 'node:crypto';
import { InternalEvent } from '@continuum/contracts';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@continuum/config';
import { quantile, type MachineForecast } from '@continuum/neural';
import { MqttConnection } from '@continuum/messaging';
import {
  TwinPredictionsRepository,
  TwinStatesRepository,
  type MachineEntity,
  type TwinPredictionRow,
} from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import { MachinesService } from '../machines/machines.service';
import type { BandDto, ForecastBandDto, ForecastDto, ForecastQuery, TwinStateDto } from './dto/twin.dto';
import { TwinForecaster } from './twin-forecaster';
import { TwinSummaries } from './twin-summaries';

/** z of the 10th/90th percentiles of a normal distribution. */
const Z90 = 1.2815515655446004;

/**
 * Announced (QoS 1, internal prefix) when an admin resets a twin: the twin app drops the machine's
 * in-memory state on it. The api deletes the checkpoint itself.
 */
export const TWIN_RESET_TOPIC = InternalEvent.TwinReset;

/** Quantiles of a computed forecast's RUL distribution. */
const RUL_QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

/**
 * Twin state, summaries and forecasts for the api, from what the twin persists (twin_states,
 * twin_predictions) and publishes (TwinUpdated with its periodic forecast summary); forecasts with
 * a horizon, samples, points or seed are computed on request ({@link TwinForecaster}).
 */
@Injectable()
export class TwinService {
  constructor(
    private readonly machines: MachinesService,
    private readonly states: TwinStatesRepository,
    private readonly predictions: TwinPredictionsRepository,
    private readonly summaries: TwinSummaries,
    private readonly mqtt: MqttConnection,
    private readonly forecaster: TwinForecaster,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async state(principal: Principal, machineId: string): Promise<TwinStateDto> {
    const machine = await this.machines.get(principal, machineId);
    const [[checkpoint], summaries, [latestRow]] = await Promise.all([
      this.states.load([machineId]),
      this.summaries.summariesOf([machineId]),
      this.summaries.message(machineId)
        ? Promise.resolve([] as TwinPredictionRow[])
        : this.predictions.latest([machineId]),
    ]);
    const message = this.summaries.message(machineId);
    const summary = summaries.get(machineId) ?? null;
    if (!checkpoint && !summary) throw new NotFoundException(`machine ${machineId} has no twin yet`);
    return {
      machineId,
      plantId: machine.plantId,
      summary,
      prediction: message ? message.prediction : (latestRow?.sensors ?? null),
      checkpoint: checkpoint
        ? {
            time: checkpoint.time,
            updates: checkpoint.updates,
            modelId: checkpoint.modelId,
            updatedAt: checkpoint.updatedAt,
          }
        : null,
    };
  }

  /**
   * The machine's forecast: the twin's last published one, or — when the query names a horizon,
   * samples, points or seed, or nothing was published yet — one computed now from the latest
   * checkpoint. Either way with the twin's prediction band over the last `hours`.
   *
   * @throws NotFoundException when there is neither a published forecast nor a checkpoint
   */
  async forecast(principal: Principal, machineId: string, query: ForecastQuery): Promise<ForecastDto> {
    const machine = await this.machines.get(principal, machineId);
    const remembered = this.summaries.forecast(machineId);
    const onRequest =
      query.horizon !== undefined ||
      query.samples !== undefined ||
      query.points !== undefined ||
      query.seed !== undefined;
    let out: Omit<ForecastDto, 'bands'>;
    if (remembered && !onRequest) {
      const { summary } = remembered;
      out = {
        machineId,
        source: 'published',
        modelVersion: remembered.modelVersion,
        fromMs: remembered.ts,
        horizonMs: summary.horizonMs,
        samples: summary.samples,
        rulMs: summary.rulMs,
        rulDistribution: summary.rulMs
          ? [
              { q: 0.1, ms: summary.rulMs.p10 },
              { q: 0.5, ms: summary.rulMs.p50 },
              { q: 0.9, ms: summary.rulMs.p90 },
            ]
          : [],
        rulCrossedFraction: null,
        crossingProbability: summary.crossingProbability,
        forecastBands: {},
        seed: null,
        nfe: null,
      };
    } else {
      const [checkpoint] = await this.states.load([machineId]);
      if (!checkpoint)
        throw new NotFoundException(
          remembered
            ? `machine ${machineId} has no twin checkpoint yet to forecast from (the twin writes one every TWIN_CHECKPOINT_INTERVAL_MS)`
            : `no forecast of machine ${machineId} yet: the twin has neither published one nor written a checkpoint`,
        );
      const defaults = this.config.twin.forecast;
      const seed = query.seed ?? randomInt(2 ** 31 - 1);
      const f = await this.forecaster.forecast(machine, checkpoint, {
        horizonMs: query.horizon ?? defaults.horizonMs,
        samples: query.samples ?? defaults.samples,
        points: query.points ?? defaults.points,
        seed,
      });
      out = computed(f, seed);
    }
    const to = Math.max(out.fromMs, Date.now());
    const hours = query.hours;
    const rows = await this.predictions.range(machineId, new Date(to - hours * 3_600_000), new Date(to + 1), 5000);
    return { ...out, bands: bands(rows, sensorNames(machine, rows)) };
  }

  /** Forgets the twin of a machine: its checkpoint and what the api remembers; the twin app is told. */
  async reset(principal: Principal, machineId: string): Promise<{ machineId: string; hadState: boolean }> {
    await this.machines.get(principal, machineId);
    const hadState = await this.states.reset(machineId);
    const hadSummary = !!this.summaries.message(machineId);
    this.summaries.forget(machineId);
    await this.mqtt.publish(TWIN_RESET_TOPIC, JSON.stringify({ machineId, at: Date.now() }), { qos: 1 });
    return { machineId, hadState: hadState || hadSummary };
  }
}

/** A forecast computed on request, as the api answers it. */
function computed(f: MachineForecast, seed: number): Omit<ForecastDto, 'bands'> {
  const crossed = f.rulSamplesMs.filter(Number.isFinite).length;
  const forecastBands: Record<string, ForecastBandDto> = {};
  for (const [name, q] of Object.entries(f.sensors)) forecastBands[name] = { t: f.times, ...q };
  return {
    machineId: f.machineId,
    source: 'computed',
    modelVersion: f.modelVersion,
    fromMs: f.fromMs,
    horizonMs: f.horizonMs,
    samples: f.samples,
    rulMs: f.rulMs,
    // Censored at the horizon, as rulMs: a sample that does not cross counts as crossing after it.
    rulDistribution: f.rulMs
      ? RUL_QUANTILES.map((q) => ({ q, ms: Math.min(quantile(f.rulSamplesMs, q), f.horizonMs) }))
      : [],
    rulCrossedFraction: f.samples > 0 ? crossed / f.samples : 0,
    crossingProbability: f.crossingProbability,
    forecastBands,
    seed,
    nfe: f.nfe,
  };
}

function sensorNames(machine: MachineEntity, rows: readonly TwinPredictionRow[]): string[] {
  const names = new Set((machine.sensors ?? []).map((s) => s.name));
  for (const r of rows) for (const s of Object.keys(r.sensors)) names.add(s);
  return [...names];
}

function bands(rows: readonly TwinPredictionRow[], sensors: readonly string[]): Record<string, BandDto> {
  const out: Record<string, BandDto> = {};
  for (const name of sensors) {
    const b: BandDto = { t: [], p10: [], p50: [], p90: [], value: [] };
    for (const r of rows) {
      const s = r.sensors[name];
      if (!s) continue;
      b.t.push(r.time);
      b.p10.push(s.mean - Z90 * s.std);
      b.p50.push(s.mean);
      b.p90.push(s.mean + Z90 * s.std);
      b.value.push(s.value ?? null);
    }
    if (b.t.length) out[name] = b;
  }
  return out;
}
