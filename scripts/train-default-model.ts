/**
 * `npm run train:default-model` — trains the twin's default models (issue 9) with the project's own
 * training code (`@continuum/neural` `train`) on data from the simulator's physical machine models,
 * and writes them to `models/default/<asset-type>/` (model.json + weights.bin, a few tens of kB each).
 *
 * For each simulated asset type (centrifugal pump, electric motor, air compressor): a fleet of
 * machines runs for some simulated hours with irregular per-sensor Poisson readings and regime changes;
 * windows of consecutive readings train an ODE-RNN (latent width 16, vector field 16-64-64-16) on the
 * one-step-ahead masked Gaussian NLL, time in hours (`normalisation.timeScaleMs` = 3,600,000), sensors
 * standardised. Training uses one RK4 step per interval (fast); the twin solves the learned field
 * adaptively (dopri5) at run time. Deterministic given the seed; a few minutes on two cores.
 *
 * Options (environment): TRAIN_SECONDS per asset type (default 60), TRAIN_MACHINES (16),
 * TRAIN_HOURS simulated per machine (24), TRAIN_OUT (models/default), CONTINUUM_TF_BACKEND.
 */
import * as path from 'node:path';
import { initTensorBackend } from '@continuum/ode';
import { OdeRnnModel, packSeries, Rng as NeuralRng, saveModel, train, type Series } from '@continuum/neural';
import { plantModels, type MachineModel } from '../apps/simulator/src/models';
import { SimulatedMachine, DEFAULT_BEHAVIOUR } from '../apps/simulator/src/plant/machine';
import { Rng } from '../apps/simulator/src/random/rng';

const SECONDS = Number(process.env.TRAIN_SECONDS ?? 60);
const MACHINES = Number(process.env.TRAIN_MACHINES ?? 16);
const HOURS = Number(process.env.TRAIN_HOURS ?? 24);
const OUT = process.env.TRAIN_OUT ?? path.join(__dirname, '..', 'models', 'default');
const WINDOW = 40;
const BATCH = 32;
const TIME_SCALE_MS = 3_600_000;

interface Track {
  times: number[];
  values: number[];
  mask: number[];
}

function simulate(model: MachineModel, seed: number): Track[] {
  const rng = new Rng(seed);
  const tracks: Track[] = [];
  const D = model.sensors.length;
  for (let k = 0; k < MACHINES; k++) {
    const m = new SimulatedMachine(`train-${k}`, model, rng.fork(`machine-${k}`), {
      ...DEFAULT_BEHAVIOUR,
      meanRegimeDuration: 3 * 3600,
      repairTime: 3600,
    });
    const track: Track = { times: [], values: [], mask: [] };
    const step = m.advance(HOURS * 3600);
    for (const s of step.samples) {
      track.times.push(s.t / 3600);
      model.sensors.forEach((def) => {
        const v = s.values[def.name];
        const ok = typeof v === 'number' && Number.isFinite(v);
        track.values.push(ok ? v : 0);
        track.mask.push(ok ? 1 : 0);
      });
    }
    if (track.times.length > WINDOW) tracks.push(track);
    void D;
  }
  return tracks;
}

function normalisation(model: MachineModel, tracks: Track[]): { offset: number[]; scale: number[] } {
  const D = model.sensors.length;
  const sum = new Array<number>(D).fill(0);
  const sq = new Array<number>(D).fill(0);
  const n = new Array<number>(D).fill(0);
  for (const t of tracks)
    for (let i = 0; i < t.values.length; i++) {
      const d = i % D;
      if (!t.mask[i]) continue;
      sum[d] += t.values[i];
      sq[d] += t.values[i] * t.values[i];
      n[d]++;
    }
  const offset = sum.map((s, d) => s / Math.max(n[d], 1));
  const scale = sq.map((s, d) => {
    const v = s / Math.max(n[d], 1) - offset[d] * offset[d];
    return Math.max(Math.sqrt(Math.max(v, 0)), model.sensors[d].noiseStd * 3, 1e-3);
  });
  return { offset, scale };
}

function windowOf(track: Track, start: number, D: number, norm: { offset: number[]; scale: number[] }): Series {
  const t0 = track.times[start];
  const times: number[] = [];
  const values: number[] = [];
  const mask: number[] = [];
  for (let i = start; i < start + WINDOW; i++) {
    times.push(track.times[i] - t0);
    for (let d = 0; d < D; d++) {
      const k = i * D + d;
      mask.push(track.mask[k]);
      values.push(track.mask[k] ? (track.values[k] - norm.offset[d]) / norm.scale[d] : 0);
    }
  }
  return { times, values, mask };
}

async function main(): Promise<void> {
  await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' });
  for (const [index, machineModel] of plantModels().entries()) {
    const D = machineModel.sensors.length;
    const tracks = simulate(machineModel, 100 + index);
    const norm = normalisation(machineModel, tracks);
    const model = new OdeRnnModel({
      obsDim: D,
      hiddenDim: 16,
      odeHidden: [64, 64],
      solver: { method: 'rk4', gradient: 'backprop' },
      seed: 7 + index,
    });
    const batches = (_epoch: number, rng: NeuralRng) =>
      Array.from({ length: 8 }, () => {
        const series: Series[] = [];
        for (let b = 0; b < BATCH; b++) {
          const track = tracks[Math.floor(rng.uniform() * tracks.length)];
          const start = Math.floor(rng.uniform() * (track.times.length - WINDOW));
          series.push(windowOf(track, start, D, norm));
        }
        return packSeries(series, D);
      });
    const valRng = new NeuralRng(999);
    const validation = batches(0, valRng)[0];
    const result = train(model, {
      epochs: 200,
      lr: 1e-2,
      schedule: { type: 'cosine', minLr: 1e-3 },
      clipNorm: 5,
      seed: index,
      batches,
      lossFn: (seq) => {
        const r = model.loss(seq);
        return { loss: r.loss, parts: { mse: r.mse } };
      },
      validate: () => model.loss(validation).nll,
      maxSeconds: SECONDS,
      onProgress: (p) => {
        if (p.epoch % 5 === 0)
          console.log(
            `${machineModel.assetType} epoch ${p.epoch}: loss ${p.loss.toFixed(3)} val ${p.valLoss?.toFixed(3)} mse ${p.parts.mse?.toFixed(3)} (${p.elapsed.toFixed(0)} s)`,
          );
      },
    });
    const dir = path.join(OUT, machineModel.assetType);
    saveModel(model, dir, {
      normalisation: {
        features: machineModel.sensors.map((s) => s.name),
        offset: norm.offset,
        scale: norm.scale,
        timeScaleMs: TIME_SCALE_MS,
      },
      metrics: { valNll: result.bestValLoss, epochs: result.history.length, seconds: result.seconds },
      trainingData: {
        source: 'apps/simulator',
        description: `${tracks.length} simulated ${machineModel.assetType} machines x ${HOURS} h, windows of ${WINDOW} readings`,
        assetType: machineModel.assetType,
      },
      extra: { assetType: machineModel.assetType, script: 'scripts/train-default-model.ts' },
    });
    console.log(
      `${machineModel.assetType}: val NLL ${result.bestValLoss.toFixed(3)} after ${result.history.length} epochs -> ${dir}`,
    );
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
