import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConflictException, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@continuum/config';
import {
  DEFAULT_SOLVER,
  disposeTwinModel,
  loadTwinModelFromDirectory,
  loadTwinModelFromRow,
  ModelBank,
  Rng,
  summariseForecast,
  type MachineForecast,
  type Thresholds,
  type TwinModel,
} from '@continuum/neural';
import { initTensorBackend } from '@continuum/ode';
import { ModelsRepository, type MachineEntity, type TwinStateEntity } from '@continuum/persistence';

/** Limits of a forecast computed on request (beyond them: 400). */
export const FORECAST_LIMITS = {
  minHorizonMs: 60_000,
  maxHorizonMs: 7 * 86_400_000,
  maxSamples: 256,
  minPoints: 2,
  maxPoints: 200,
} as const;

/** What a computed forecast is asked for. */
export interface ForecastRequest {
  horizonMs: number;
  samples: number;
  points: number;
  seed: number;
}

/** Loaded models kept for later requests (each holds its weights on the TensorFlow.js backend). */
const MODEL_CACHE = 8;

/**
 * Forecasts a machine's twin on request, with the twin's own code (`@continuum/neural`: the
 * ModelBank's batched sampled forecast and `summariseForecast`, the same calls as apps/twin's
 * TwinProcessor.forecast): the machine's latest checkpoint in `twin_states` (latent mean and spread
 * at the checkpoint time) under the model it was taken with (the registry version in `models`, or the
 * shipped default of its asset type), `samples` latent draws integrated over `horizonMs` with the
 * TWIN_SOLVER settings, read out at `points` times. Seeded, so a request can be repeated exactly.
 */
@Injectable()
export class TwinForecaster implements OnApplicationShutdown {
  private readonly logger = new Logger('TwinForecast');
  private backend: Promise<string> | null = null;
  private readonly cache = new Map<string, { model: Promise<TwinModel>; users: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly models: ModelsRepository,
  ) {}

  /**
   * @throws ConflictException when the checkpoint cannot be run: its model is gone, cannot be loaded,
   *   or is not the one it was taken with
   */
  async forecast(machine: MachineEntity, checkpoint: TwinStateEntity, req: ForecastRequest): Promise<MachineForecast> {
    this.backend ??= initTensorBackend({ log: (m) => this.logger.log(m) });
    await this.backend;
    const state = checkpoint.state as { h?: unknown; latentVar?: unknown; assetType?: unknown; modelVersion?: unknown };
    const assetType = typeof state.assetType === 'string' ? state.assetType : machine.assetType;
    const key = checkpoint.modelId ?? `default:${assetType}`;
    const entry = this.acquire(key, () => this.load(checkpoint.modelId, assetType));
    try {
      const model = await entry.model;
      if (state.modelVersion !== model.version)
        throw new ConflictException(
          `the twin state of ${machine.id} was taken under model ${String(state.modelVersion)}, not ${model.version}; forecast again after the twin's next checkpoint`,
        );
      const H = model.model.config.hiddenDim;
      if (!isVector(state.h, H) || !isVector(state.latentVar, H))
        throw new ConflictException(`the twin state of ${machine.id} does not fit model ${model.version}`);
      const timeMs = new Date(checkpoint.time).getTime();
      const { solver } = this.config.twin;
      const bank = new ModelBank(
        model,
        { ...DEFAULT_SOLVER, method: solver.method, rtol: solver.rtol, atol: solver.atol, warmStart: solver.warmStart },
        1,
      );
      try {
        bank.restore([
          {
            machineId: machine.id,
            h: state.h,
            latentVar: state.latentVar,
            timeMs,
            stepUnits: Number(checkpoint.stepSize ?? 0),
            updates: checkpoint.updates,
          },
        ]);
        const rng = new Rng(req.seed);
        const f = bank.forecast([machine.id], req.horizonMs / model.timeScaleMs, req.points, req.samples, () =>
          rng.normal(),
        );
        return summariseForecast(f, model.sensors, {
          fromMs: () => timeMs,
          thresholds: () => thresholdsOf(machine),
          timeScaleMs: model.timeScaleMs,
          modelVersion: model.version,
        })[0];
      } finally {
        bank.dispose();
      }
    } finally {
      entry.users--;
    }
  }

  private acquire(key: string, load: () => Promise<TwinModel>): { model: Promise<TwinModel>; users: number } {
    let entry = this.cache.get(key);
    if (entry)
      this.cache.delete(key); // re-inserted last: most recently used
    else {
      entry = { model: load(), users: 0 };
      entry.model.catch(() => this.cache.get(key) === entry && this.cache.delete(key));
    }
    this.cache.set(key, entry);
    entry.users++;
    for (const [k, e] of this.cache) {
      if (this.cache.size <= MODEL_CACHE) break;
      if (e.users > 0) continue;
      this.cache.delete(k);
      void e.model.then(disposeTwinModel, () => undefined);
    }
    return entry;
  }

  private async load(modelId: string | null, assetType: string): Promise<TwinModel> {
    if (modelId) {
      const row = await this.models.findById(modelId);
      if (!row) throw new ConflictException(`model ${modelId} of the twin state no longer exists`);
      try {
        return loadTwinModelFromRow({
          id: row.id,
          assetType: row.assetType,
          version: row.version,
          kind: row.kind,
          config: row.config,
          weights: row.weights ? Buffer.from(row.weights) : null,
          normalisation: row.normalisation ?? {},
        });
      } catch (err) {
        throw new ConflictException(`model ${row.assetType} v${row.version} cannot be run: ${(err as Error).message}`);
      }
    }
    const dir = path.resolve(this.config.twin.modelsDir, assetType);
    if (!fs.existsSync(path.join(dir, 'model.json')))
      throw new ConflictException(
        `asset type ${assetType} has no shipped default model in ${this.config.twin.modelsDir}`,
      );
    return loadTwinModelFromDirectory(dir, assetType);
  }

  onApplicationShutdown(): void {
    for (const e of this.cache.values()) void e.model.then(disposeTwinModel, () => undefined);
    this.cache.clear();
  }
}

function isVector(v: unknown, n: number): v is number[] {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** The failure thresholds of a machine's sensors. */
export function thresholdsOf(machine: MachineEntity): Thresholds {
  const out: Thresholds = {};
  for (const s of machine.sensors ?? []) if (s.failureThreshold) out[s.name] = s.failureThreshold;
  return out;
}
