/**
 * `npm run train:default-model` — trains the twin's default models (issue 9) with the project's own
 * training code (`@continuum/neural` `train`) on data from the simulator's physical machine models,
 * writes them to `models/default/<asset-type>/` (model.json + weights.bin, a few tens of kB each), and
 * evaluates them as the twin runs them on healthy machines they were not trained on.
 *
 * For each simulated asset type (centrifugal pump, electric motor, air compressor): a fleet of
 * machines runs for some simulated hours with irregular per-sensor Poisson readings and regime changes;
 * an ODE-RNN (latent width 16, vector field 16-64-64-16) is trained as a filter on the one-step-ahead
 * masked Gaussian NLL, time in hours (`normalisation.timeScaleMs` = 3,600,000), sensors standardised,
 * by truncated backpropagation over windows of 40 consecutive readings whose initial state is the state
 * the previous window of the same machine ended in (see {@link WindowStreams}), so the filter learns to
 * stay calibrated over days, as the twin runs it. The learning rate follows a cosine over the time
 * budget. Training uses one RK4 step per interval (fast); the twin solves the learned field adaptively
 * (dopri5) at run time. The time budget makes runs depend on the machine's speed.
 *
 * Evaluation ({@link evaluate}; TRAIN_EVAL_ONLY=1 evaluates the models in TRAIN_OUT without training):
 * per sensor, the mean (bias), standard deviation and mean absolute value of the twin's z-scores on
 * healthy machines, and the peak of alerting's residual CUSUM for several allowances k.
 *
 * Options (environment): TRAIN_SECONDS per asset type (default 60), TRAIN_MACHINES (16), TRAIN_HOURS
 * simulated per machine (24), TRAIN_OUT (models/default), TRAIN_ASSETS (comma-separated asset types;
 * default all), TRAIN_INIT (fine-tune the models of this directory), TRAIN_LR, TRAIN_BATCH (128),
 * TRAIN_CARRY (1; 0 starts every window from zero state, the scheme of the first shipped models),
 * TRAIN_EVAL_ONLY, EVAL_MACHINES (8), EVAL_HOURS (8), CONTINUUM_TF_BACKEND.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import {
  DEFAULT_SOLVER,
  disposeTwinModel,
  loadModel,
  loadTwinModelFromDirectory,
  ModelBank,
  OdeRnnModel,
  packSeries,
  Rng as NeuralRng,
  saveModel,
  train,
  type Sequences,
  type Series,
} from '@continuum/neural';
import { ResidualCusumDetector } from '../apps/alerting/src/detectors/detectors';
import { plantModels, type MachineModel } from '../apps/simulator/src/models';
import { SimulatedMachine, DEFAULT_BEHAVIOUR } from '../apps/simulator/src/plant/machine';
import { Rng } from '../apps/simulator/src/random/rng';

const SECONDS = Number(process.env.TRAIN_SECONDS ?? 60);
const MACHINES = Number(process.env.TRAIN_MACHINES ?? 16);
const HOURS = Number(process.env.TRAIN_HOURS ?? 24);
const OUT = process.env.TRAIN_OUT ?? path.join(__dirname, '..', 'models', 'default');
/** Only evaluate the models in TRAIN_OUT (no training). */
const EVAL_ONLY = process.env.TRAIN_EVAL_ONLY === '1';
const WINDOW = 40;
const BATCH = Number(process.env.TRAIN_BATCH ?? 128);
/** Carry the filter state from window to window (see {@link WindowStreams}); TRAIN_CARRY=0: from zero. */
const CARRY = process.env.TRAIN_CARRY !== '0';
/** Probability that a stream restarts from zero state after a window. */
const RESET = 0.05;
const VAL_SERIES = 8;
const VAL_WINDOW = 240;
const VAL_WARMUP = 60;
/** Start from the models in this directory (fine-tuning; same normalisation) instead of from scratch. */
const INIT = process.env.TRAIN_INIT;
/** Initial learning rate (cosine to a tenth of it over the time budget): 1e-2 from scratch, 3e-3 fine-tuning. */
const LR = Number(process.env.TRAIN_LR ?? (INIT ? 3e-3 : 1e-2));
/** Asset types to train (comma-separated; default all). */
const ASSETS = process.env.TRAIN_ASSETS?.split(',');
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

/**
 * Readings start .. start + length − 1 of a track, standardised, times from the first one. With
 * lead = 1 the previous reading's time comes first, fully masked (the filter advances over the gap).
 */
function windowOf(
  track: Track,
  start: number,
  D: number,
  norm: { offset: number[]; scale: number[] },
  lead = 0,
  length = WINDOW,
): Series {
  const first = Math.max(start - lead, 0);
  const t0 = track.times[first];
  const times: number[] = [];
  const values: number[] = [];
  const mask: number[] = [];
  for (let i = first; i < start + length; i++) {
    times.push(track.times[i] - t0);
    for (let d = 0; d < D; d++) {
      const k = i * D + d;
      const seen = i >= start ? track.mask[k] : 0;
      mask.push(seen);
      values.push(seen ? (track.values[k] - norm.offset[d]) / norm.scale[d] : 0);
    }
  }
  return { times, values, mask };
}

/**
 * Training batches as truncated backpropagation through time over long filter runs (Williams & Peng
 * 1990): BATCH streams each walk a machine's track window by window, and the state a window ends in
 * is the (detached) initial state of the stream's next window, which also integrates the gap from the
 * previous window's last reading (a fully masked first step). With probability RESET per window, or
 * at a track's end, a stream restarts from zero state at a random place, so the warm-up is trained
 * too. Trained from zero state in every window (TRAIN_CARRY=0, the first shipped models), the filter
 * only ever sees its first WINDOW readings (about 13 minutes, one or two readings of a slow temperature
 * sensor) while the twin runs it for days: nothing in training penalises a slow drift of the state. The
 * first shipped models are biased on healthy machines (per machine up to about 1.6 standard
 * deviations, mostly of the same sign across machines), in their training form (RK4) as much as in
 * the twin (dopri5), which points to the model, not to the run-time solver.
 * With TRAIN_CARRY=0, every window starts from zero state (the earlier scheme).
 */
class WindowStreams {
  private readonly track: number[] = [];
  private readonly pos: number[] = [];
  private readonly state: Float32Array;
  private readonly fresh: boolean[] = [];

  constructor(
    private readonly tracks: Track[],
    private readonly D: number,
    private readonly norm: { offset: number[]; scale: number[] },
    private readonly rng: NeuralRng,
    private readonly H: number,
  ) {
    this.state = new Float32Array(BATCH * H);
    for (let b = 0; b < BATCH; b++) this.restart(b);
  }

  private restart(b: number): void {
    this.track[b] = Math.floor(this.rng.uniform() * this.tracks.length);
    this.pos[b] = Math.floor(this.rng.uniform() * (this.tracks[this.track[b]].times.length - WINDOW));
    this.state.fill(0, b * this.H, (b + 1) * this.H);
    this.fresh[b] = true;
  }

  /** The streams' next windows and their initial states. */
  next(): { seq: Sequences; h0: Float32Array } {
    const series: Series[] = [];
    for (let b = 0; b < BATCH; b++) {
      if (!CARRY) this.restart(b);
      const t = this.tracks[this.track[b]];
      series.push(windowOf(t, this.pos[b], this.D, this.norm, this.fresh[b] ? 0 : 1));
    }
    return { seq: packSeries(series, this.D), h0: this.state.slice() };
  }

  /** Keeps the final states of the windows just trained on and moves every stream on. */
  carry(h: Float32Array): void {
    this.state.set(h);
    for (let b = 0; b < BATCH; b++) {
      this.fresh[b] = false;
      this.pos[b] += WINDOW;
      if (this.pos[b] + WINDOW > this.tracks[this.track[b]].times.length || this.rng.uniform() < RESET) this.restart(b);
    }
  }
}

/**
 * `OdeRnnModel.loss` (one-step-ahead masked Gaussian NLL per scored value) from initial states h0
 * (null: zeros) and scoring only where `score` is 1 (default: every reading), with the final states.
 */
function filterLoss(
  model: OdeRnnModel,
  seq: Sequences,
  h0: Float32Array | null,
  score?: Float32Array,
): { loss: tf.Scalar; nll: number; mse: number; h: Float32Array } {
  const H = model.config.hiddenDim;
  const run = model.rnn.run(seq, {
    collect: true,
    counter: model.nfe,
    ...(h0 ? { h0: tf.tensor2d(h0, [seq.B, H]) } : {}),
  });
  const flat = tf.reshape(tf.stack(run.priors as tf.Tensor[]), [seq.T * seq.B, H]);
  const { mean, logVar } = model.readout(flat);
  const x = tf.tensor2d(seq.values, [seq.T * seq.B, seq.D]);
  const weights = score ?? seq.mask;
  const m = tf.tensor2d(weights, [seq.T * seq.B, seq.D]);
  const n = Math.max(
    weights.reduce((a, b) => a + b, 0),
    1,
  );
  const sq = tf.square(tf.sub(x, mean));
  const terms = tf.mul(tf.add(tf.add(logVar, Math.log(2 * Math.PI)), tf.mul(sq, tf.exp(tf.neg(logVar)))), 0.5);
  const loss = tf.div(tf.sum(tf.mul(terms, m)), n) as tf.Scalar;
  const mse = tf.div(tf.sum(tf.mul(sq, m)), n);
  return { loss, nll: loss.dataSync()[0], mse: mse.dataSync()[0], h: run.h.dataSync() as Float32Array };
}

/**
 * Held-out machines' long runs from zero state (VAL_WINDOW readings, about 80 minutes), scored after
 * the first VAL_WARMUP readings: the filter's steady-state NLL, as the twin runs it.
 */
function validationBatch(
  tracks: Track[],
  D: number,
  norm: { offset: number[]; scale: number[] },
): { seq: Sequences; score: Float32Array } {
  const rng = new NeuralRng(999);
  const series: Series[] = [];
  for (let b = 0; b < VAL_SERIES; b++) {
    const t = tracks[b % tracks.length];
    const start = Math.floor(rng.uniform() * (t.times.length - VAL_WINDOW));
    series.push(windowOf(t, start, D, norm, 0, VAL_WINDOW));
  }
  const seq = packSeries(series, D);
  const score = seq.mask.slice();
  score.fill(0, 0, VAL_WARMUP * seq.B * D);
  return { seq, score };
}

const EVAL_MACHINES = Number(process.env.EVAL_MACHINES ?? 8);
const EVAL_HOURS = Number(process.env.EVAL_HOURS ?? 8);
const EVAL_WARMUP_HOURS = 1;
const EVAL_K = [0.5, 1, 1.5, 2, 2.5];
/** alerting's default divergence rule raises at this CUSUM statistic (apps/alerting default-rules). */
const EVAL_RAISE_AT = 12;

/**
 * How the twin with a saved model does on healthy machines it has not seen (a different seed, no
 * injected faults, the plant's default behaviour): the models' run-time form (`ModelBank`, dopri5,
 * warm starts) filters each machine from zero state; after the first hour, the mean, standard
 * deviation and mean absolute value of every sensor's z-score. A well-calibrated twin has mean z ≈ 0
 * and std ≈ 1. Also, per divergence allowance k, the largest statistic of alerting's residual CUSUM
 * (leak 2/h, clip 8, cap 30, from the first reading) over the healthy machines, and how many of them
 * reach the default rule's raise level.
 */
function evaluate(machineModel: MachineModel, dir: string, seed: number): void {
  const twin = loadTwinModelFromDirectory(dir, machineModel.assetType);
  const bank = new ModelBank(twin, DEFAULT_SOLVER);
  const rng = new Rng(seed);
  const D = twin.sensors.length;
  const streams = Array.from({ length: EVAL_MACHINES }, (_, k) => {
    const m = new SimulatedMachine(`eval-${k}`, machineModel, rng.fork(`eval-${k}`), DEFAULT_BEHAVIOUR);
    return { id: m.machineId, samples: m.advance(EVAL_HOURS * 3600).samples };
  });
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  const abs = new Float64Array(D);
  const n = new Float64Array(D);
  const cusums = EVAL_K.map((k) =>
    streams.map(() => new ResidualCusumDetector({ k, leakPerHour: 2, clip: 8, cap: 30 }, null)),
  );
  const warmCusums = EVAL_K.map((k) =>
    streams.map(() => new ResidualCusumDetector({ k, leakPerHour: 2, clip: 8, cap: 30 }, null)),
  );
  const peak = EVAL_K.map(() => new Float64Array(EVAL_MACHINES));
  const warmPeak = EVAL_K.map(() => new Float64Array(EVAL_MACHINES));
  const machineSum = new Float64Array(EVAL_MACHINES * D);
  const machineN = new Float64Array(EVAL_MACHINES * D);
  let nfe = 0;
  const rounds = Math.max(...streams.map((s) => s.samples.length));
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    const live = streams.map((s, j) => ({ s, j })).filter(({ s }) => r < s.samples.length);
    const B = live.length;
    const slots = new Int32Array(B);
    const timesMs = new Float64Array(B);
    const values = new Float64Array(B * D);
    const mask = new Float32Array(B * D);
    live.forEach(({ s }, i) => {
      const sample = s.samples[r];
      slots[i] = bank.slot(s.id);
      timesMs[i] = sample.t * 1000;
      twin.sensors.forEach((name, d) => {
        const v = sample.values[name];
        if (typeof v === 'number' && Number.isFinite(v)) {
          values[i * D + d] = v;
          mask[i * D + d] = 1;
        }
      });
    });
    const out = bank.step({ slots, timesMs, values, mask });
    nfe += out.nfe;
    live.forEach(({ s, j }, i) => {
      const residuals: Record<string, number> = {};
      for (let d = 0; d < D; d++) if (mask[i * D + d]) residuals[twin.sensors[d]] = out.residuals[i * D + d];
      const ts = timesMs[i];
      EVAL_K.forEach((_, q) => {
        const v = cusums[q][j].update({ ts, residuals } as never)?.value ?? 0;
        if (v > peak[q][j]) peak[q][j] = v;
      });
      if (s.samples[r].t - s.samples[0].t < EVAL_WARMUP_HOURS * 3600) return;
      EVAL_K.forEach((_, q) => {
        const v = warmCusums[q][j].update({ ts, residuals } as never)?.value ?? 0;
        if (v > warmPeak[q][j]) warmPeak[q][j] = v;
      });
      for (let d = 0; d < D; d++) {
        if (!mask[i * D + d]) continue;
        const z = out.residuals[i * D + d];
        machineSum[j * D + d] += z;
        machineN[j * D + d]++;
        sum[d] += z;
        sq[d] += z * z;
        abs[d] += Math.abs(z);
        n[d]++;
      }
    });
  }
  const lines = twin.sensors.map((name, d) => {
    const mean = sum[d] / n[d];
    const std = Math.sqrt(Math.max(sq[d] / n[d] - mean * mean, 0));
    let perMachine = 0;
    for (let j = 0; j < EVAL_MACHINES; j++)
      if (machineN[j * D + d] > 0)
        perMachine = Math.max(perMachine, Math.abs(machineSum[j * D + d] / machineN[j * D + d]));
    return `  ${name.padEnd(22)} mean z ${mean.toFixed(2).padStart(6)}  std z ${std.toFixed(2)}  mean |z| ${(abs[d] / n[d]).toFixed(2)}  worst machine |mean z| ${perMachine.toFixed(2)}  (${n[d]} readings)`;
  });
  const worst = Math.max(...twin.sensors.map((_, d) => Math.abs(sum[d] / n[d])));
  console.log(
    `${machineModel.assetType}: ${EVAL_MACHINES} healthy machines x ${EVAL_HOURS} h (seed ${seed}), z after the first ${EVAL_WARMUP_HOURS} h; max |mean z| ${worst.toFixed(2)}; ${(nfe / rounds).toFixed(1)} NFE/round, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  console.log(lines.join('\n'));
  const cusumLine = (p: Float64Array[]) =>
    EVAL_K.map(
      (k, q) => `k ${k}: ${Math.max(...p[q]).toFixed(1)} / ${p[q].filter((v) => v >= EVAL_RAISE_AT).length}`,
    ).join('; ');
  console.log(
    `  residual CUSUM (leak 2/h, clip 8, cap 30), peak / machines reaching ${EVAL_RAISE_AT}, from the first reading: ${cusumLine(peak)}`,
  );
  console.log(`  the same, started after the first ${EVAL_WARMUP_HOURS} h: ${cusumLine(warmPeak)}`);
  bank.dispose();
  disposeTwinModel(twin);
}

async function main(): Promise<void> {
  await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' });
  for (const [index, machineModel] of plantModels().entries()) {
    if (ASSETS && !ASSETS.includes(machineModel.assetType)) continue;
    const dir = path.join(OUT, machineModel.assetType);
    if (EVAL_ONLY) {
      evaluate(machineModel, dir, 500 + index);
      continue;
    }
    const D = machineModel.sensors.length;
    const tracks = simulate(machineModel, 100 + index);
    const init = INIT ? loadModel<OdeRnnModel>(path.join(INIT, machineModel.assetType)) : null;
    // Fine-tuning keeps the normalisation the model was trained with.
    const initNorm = init?.manifest.normalisation as { offset: number[]; scale: number[] } | undefined;
    const norm = initNorm ? { offset: initNorm.offset, scale: initNorm.scale } : normalisation(machineModel, tracks);
    const model =
      init?.model ??
      new OdeRnnModel({
        obsDim: D,
        hiddenDim: 16,
        odeHidden: [64, 64],
        solver: { method: 'rk4', gradient: 'backprop' },
        seed: 7 + index,
      });
    const heldOut = simulate(machineModel, 200 + index);
    const validation = validationBatch(heldOut, D, norm);
    const streams = new WindowStreams(tracks, D, norm, new NeuralRng(31 + index), model.config.hiddenDim);
    const started = Date.now();
    const result = train(model, {
      epochs: 100_000,
      lr: LR,
      // Cosine over the time budget (an epoch-based cosine never decayed: the budget stopped it first).
      schedule: (_epoch, lr0) =>
        lr0 / 10 +
        0.5 * (lr0 - lr0 / 10) * (1 + Math.cos(Math.PI * Math.min(1, (Date.now() - started) / 1000 / SECONDS))),
      clipNorm: 5,
      seed: index,
      batches: () => Array.from({ length: 8 }, (_, i) => i),
      lossFn: () => {
        const { seq, h0 } = streams.next();
        const r = filterLoss(model, seq, h0);
        streams.carry(r.h);
        return { loss: r.loss, parts: { mse: r.mse } };
      },
      validate: () => filterLoss(model, validation.seq, null, validation.score).nll,
      maxSeconds: SECONDS,
      onProgress: (p) => {
        if (p.epoch % 5 === 0)
          console.log(
            `${machineModel.assetType} epoch ${p.epoch}: loss ${p.loss.toFixed(3)} val ${p.valLoss?.toFixed(3)} mse ${p.parts.mse?.toFixed(3)} lr ${p.lr.toExponential(1)} (${p.elapsed.toFixed(0)} s)`,
          );
      },
    });
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
        description: `${tracks.length} simulated ${machineModel.assetType} machines x ${HOURS} h, windows of ${WINDOW} readings, state carried ${CARRY ? 'between consecutive windows' : 'nowhere (each window from zero)'}`,
        assetType: machineModel.assetType,
      },
      extra: {
        assetType: machineModel.assetType,
        script: 'scripts/train-default-model.ts',
        ...(INIT ? { fineTunedFrom: path.relative(process.cwd(), INIT) } : {}),
      },
    });
    console.log(
      `${machineModel.assetType}: val NLL ${result.bestValLoss.toFixed(3)} after ${result.history.length} epochs -> ${dir}`,
    );
    evaluate(machineModel, dir, 500 + index);
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
