import { InternalEvent } from '@continuum/contracts';
import { Injectable, NotFoundException } from '@nestjs/common';
import { MqttConnection } from '@continuum/messaging';
import {
  TwinPredictionsRepository,
  TwinStatesRepository,
  type MachineEntity,
  type TwinPredictionRow,
} from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import { MachinesService } from '../machines/machines.service';
import type { BandDto, ForecastDto, TwinStateDto } from './dto/twin.dto';
import { TwinSummaries } from './twin-summaries';

/** z of the 10th/90th percentiles of a normal distribution. */
const Z90 = 1.2815515655446004;

/**
 * Announced (QoS 1, internal prefix) when an admin resets a twin: the twin app drops the machine's
 * in-memory state on it. The api deletes the checkpoint itself.
 */
export const TWIN_RESET_TOPIC = InternalEvent.TwinReset;

/**
 * Twin state, summaries and forecasts for the api, from what the twin persists (twin_states,
 * twin_predictions) and publishes (TwinUpdated with its periodic forecast summary).
 */
@Injectable()
export class TwinService {
  constructor(
    private readonly machines: MachinesService,
    private readonly states: TwinStatesRepository,
    private readonly predictions: TwinPredictionsRepository,
    private readonly summaries: TwinSummaries,
    private readonly mqtt: MqttConnection,
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

  async forecast(principal: Principal, machineId: string, hours: number): Promise<ForecastDto> {
    const machine = await this.machines.get(principal, machineId);
    const remembered = this.summaries.forecast(machineId);
    if (!remembered)
      throw new NotFoundException(
        `no forecast of machine ${machineId} yet (the twin publishes one every TWIN_FORECAST_INTERVAL_MS)`,
      );
    const { summary } = remembered;
    const to = Math.max(remembered.ts, Date.now());
    const rows = await this.predictions.range(machineId, new Date(to - hours * 3_600_000), new Date(to + 1), 5000);
    return {
      machineId,
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
      crossingProbability: summary.crossingProbability,
      bands: bands(rows, sensorNames(machine, rows)),
    };
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
