import * as tf from '@tensorflow/tfjs';
import type { TrainingJobEntity } from '@continuum/persistence';
import type { Rng, Sequences } from '@continuum/neural';
import { TrainingDataRepository } from '../data/training-data.repository';
import { pack, sampleWindows, sensorStats, splitByMachine, TrackBuilder, type SensorStats } from '../data/dataset';
import { parseHyperparameters, type ModelKind } from '../jobs/job-spec';
import { buildModel, solverConfig, type Trainable } from './models';
import { trainResumable, type EpochReport, type TrainerResult } from './trainer';

/** What a finished run hands to the registry. */
export interface RunOutput {
  trainable: Trainable;
  stats: SensorStats & { timeScaleMs: number };
  result: TrainerResult;
  trainingData: Record<string, unknown>;
  solver: Record<string, unknown>;
}

/** Hooks of a run. */
export interface RunHooks {
  checkpointDir: string;
  chunkRows: number;
  maxSeconds: number;
  onEpoch: (r: EpochReport) => Promise<boolean>;
  tick: () => Promise<boolean>;
  onStage?: (stage: string) => Promise<void>;
}

/**
 * Runs one job: reads its readings in chunks into per-machine tracks, normalises with the training
 * machines' statistics, splits by machine, builds the model and trains it (resuming from the job's
 * checkpoint when one exists).
 *
 * @throws Error with the reason (no machines, no data, non-finite loss, solver failure)
 */
export async function runJob(
  job: TrainingJobEntity,
  data: TrainingDataRepository,
  hooks: RunHooks,
): Promise<RunOutput> {
  const hp = parseHyperparameters(job.hyperparameters);
  const machines = await data.machines(job.assetType, job.machineIds);
  if (machines.length === 0) throw new Error(`no machines of asset type ${job.assetType}`);
  const sel = { machineIds: machines.map((m) => m.id), from: job.rangeFrom!, to: job.rangeTo! };
  await hooks.onStage?.('loading data');
  const sensors = await data.sensors(sel);
  if (sensors.length === 0) throw new Error('no data: no readings in the range');
  const builder = new TrackBuilder(sensors);
  const readings = await data.forEachChunk(sel, sensors, hooks.chunkRows, async (rows) => {
    builder.add(rows);
    await hooks.tick();
  });
  const window = hp.window;
  const tracks = builder.build(Math.min(window, 4));
  if (tracks.length === 0) throw new Error(`no data: no machine has ${Math.min(window, 4)} readings in the range`);
  const { train, val } = splitByMachine(tracks, hp.validationFraction, hp.seed);
  const valTracks = val.length ? val : train;
  const stats = sensorStats(train, sensors);
  const D = sensors.length;
  const solver = solverConfig(job.solver, job.gradient as 'adjoint' | 'backprop', hp);
  const trainable = buildModel(job.modelKind as ModelKind, D, hp, solver);
  const shared = trainable.sharedTimes;
  const batches = (_epoch: number, rng: Rng): Sequences[] =>
    Array.from({ length: hp.batchesPerEpoch }, () =>
      pack(
        sampleWindows(train, hp.batchSize, window, stats, hp.timeScaleMs, () => rng.uniform()),
        D,
        shared,
      ),
    );
  let seed = 12345;
  const fixed = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed / 2 ** 32);
  const valBatches = Array.from({ length: 2 }, () =>
    pack(sampleWindows(valTracks, hp.batchSize, window, stats, hp.timeScaleMs, fixed), D, shared),
  );
  await hooks.onStage?.('training');
  const result = await trainResumable(trainable.model, {
    epochs: hp.epochs,
    lr: hp.lr,
    clipNorm: hp.clipNorm,
    patience: hp.patience,
    seed: hp.seed,
    batches,
    loss: (seq) => trainable.loss(seq),
    validate: () => {
      const sums: Record<string, number> = {};
      for (const b of valBatches) {
        const r = trainable.loss(b);
        sums.valLoss = (sums.valLoss ?? 0) + r.loss.dataSync()[0];
        for (const [k, v] of Object.entries(r.parts)) {
          const key = `val${k[0].toUpperCase()}${k.slice(1)}`;
          sums[key] = (sums[key] ?? 0) + v;
        }
      }
      tf.dispose([]);
      return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / valBatches.length])) as Record<
        string,
        number
      > & { valLoss: number };
    },
    checkpointDir: hooks.checkpointDir,
    onEpoch: hooks.onEpoch,
    tick: hooks.tick,
    maxSeconds: hooks.maxSeconds,
  });
  if (result.history.length === 0 && result.resumedFrom === null) throw new Error('training ran no epoch');
  return {
    trainable,
    stats: { ...stats, timeScaleMs: hp.timeScaleMs },
    result,
    trainingData: {
      source: 'readings',
      assetType: job.assetType,
      from: sel.from.toISOString(),
      to: sel.to.toISOString(),
      machines: tracks.map((t) => t.machineId),
      trainMachines: train.map((t) => t.machineId),
      validationMachines: val.map((t) => t.machineId),
      readings,
      window,
    },
    solver: { ...solver, hyperparameters: hp },
  };
}
