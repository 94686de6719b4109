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
 * stay calibrated over days, as the twin runs it. Added to it, the multi-horizon forecast loss
 * ({@link forecastLoss}): from each window's last filtered state, the latent ODE runs free (no
 * readings, as `ModelBank.forecast` runs it; starting states jittered like its samples) to 8 horizons
 * drawn log-uniformly between 5 minutes and 24 hours, and the same machine's readings there are scored
 * by the masked Gaussian NLL of the read-out — so the dynamics between readings are taught what a day
 * ahead looks like, with honest variances, not only the next reading (seconds to minutes away). The
 * longest horizon grows from 1 h to 24 h over the first 30% of the budget. The learning rate follows a
 * cosine over the time budget. Training uses one RK4 step per interval between readings (fast) and
 * the twin's own dopri5 over forecast horizons; the twin solves the learned field adaptively (dopri5)
 * at run time. The time budget makes runs depend on the machine's speed. The model file format is the
 * plain ODE-RNN's: only the training objective changed.
 *
 * Evaluation ({@link evaluate}; TRAIN_EVAL_ONLY=1 evaluates the models in TRAIN_OUT without training):
 * per sensor, the mean (bias), standard deviation and mean absolute value of the twin's z-scores on
 * healthy machines, the peak of alerting's residual CUSUM for several allowances k, and the twin's
 * 24 h forecasts on those machines (how many would raise the default forecast rule, each failure
 * limit's crossing probability, and how often the real readings fall inside the p10-p90 band).
 *
 * Options (environment): TRAIN_SECONDS per asset type (default 60), TRAIN_MACHINES (16), TRAIN_HOURS
 * simulated per machine (48: a day of track after a window for the day-ahead targets), TRAIN_OUT
 * (models/default), TRAIN_ASSETS (comma-separated asset types; default all), TRAIN_INIT (fine-tune the
 * models of this directory), TRAIN_LR, TRAIN_BATCH (128), TRAIN_CARRY (1; 0 starts every window from
 * zero state, the scheme of the first shipped models), TRAIN_FORECAST_WEIGHT (1; 0: one-step loss
 * only), TRAIN_FORECAST_JITTER (0.1), TRAIN_WEAR_FRACTION (0: machines that wear out within the run,
 * see {@link WEAR_FRACTION}), TRAIN_WEAR_LIFE_DAYS ("1,4"), TRAIN_EVAL_ONLY, EVAL_MACHINES (8), EVAL_HOURS (8),
 * CONTINUUM_TF_BACKEND.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint } from '@continuum/ode';
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
  summariseForecast,
  train,
  type BatchLoss,
  type Sequences,
  type Series,
} from '@continuum/neural';
import { ResidualCusumDetector } from '../apps/alerting/src/detectors/detectors';
import { plantModels, type MachineModel } from '../apps/simulator/src/models';
import { SimulatedMachine, DEFAULT_BEHAVIOUR } from '../apps/simulator/src/plant/machine';
import { Rng } from '../apps/simulator/src/random/rng';
import { withAcceleratedWear } from './eval-alerts/fleet';

const SECONDS = Number(process.env.TRAIN_SECONDS ?? 60);
const MACHINES = Number(process.env.TRAIN_MACHINES ?? 16);
/**
 * Fraction of the training machines that wear out within their run (run-to-failure histories, as a
 * plant's maintenance records give them): their wear rate is aimed at a life drawn uniformly in
 * TRAIN_WEAR_LIFE_DAYS under the default regimes (scripts/eval-alerts/fleet.ts `withAcceleratedWear`),
 * and a failed machine is repaired after an hour (wear back to a new machine's) and goes on. 0 (the
 * default): every machine keeps the simulator's own wear (lives of weeks to months), so the models
 * never see a machine near its failure limits and their forecasts cannot predict one.
 */
const WEAR_FRACTION = Number(process.env.TRAIN_WEAR_FRACTION ?? 0);
const WEAR_LIFE_DAYS = (process.env.TRAIN_WEAR_LIFE_DAYS ?? '1,4').split(',').map(Number) as [number, number];
const HOURS = Number(process.env.TRAIN_HOURS ?? 48);
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
/**
 * Weight of the multi-horizon forecast loss (see {@link forecastLoss}) against the one-step loss;
 * 0 trains the one-step loss alone (the scheme of the first shipped models).
 */
const FORECAST_WEIGHT = Number(process.env.TRAIN_FORECAST_WEIGHT ?? 1);
/** Horizons per batch of the forecast loss, log-uniform between these (hours). */
const FORECAST_POINTS = 8;
const FORECAST_MIN_H = 5 / 60;
const FORECAST_MAX_H = 24;
/**
 * Step limit of the forecast loss's free run, solved as the twin solves it (dopri5, rtol 1e-3, atol
 * 1e-4, backpropagation through the steps). A constant RK4 step of half an hour blew up: the one-step
 * loss only ever integrates seconds to minutes, so it lets the field grow fast (stiff) contracting
 * directions that a half-hour RK4 step cannot follow, and the free run diverged where the adaptive
 * solver would not.
 */
const FORECAST_MAX_STEPS = 400;
/** Standard deviation of the noise added to the forecast's initial states (the twin's forecast samples). */
const FORECAST_JITTER = Number(process.env.TRAIN_FORECAST_JITTER ?? 0.1);
/** Validation forecast horizons (hours). */
const VAL_HORIZONS = [0.25, 1, 3, 6, 12, 24];

interface Track {
  times: number[];
  values: number[];
  mask: number[];
}

function simulate(model: MachineModel, seed: number): Track[] {
  const rng = new Rng(seed);
  const tracks: Track[] = [];
  const D = model.sensors.length;
  const design = rng.fork('wear');
  for (let k = 0; k < MACHINES; k++) {
    const wears = design.bernoulli(WEAR_FRACTION);
    const life = design.uniform(WEAR_LIFE_DAYS[0], WEAR_LIFE_DAYS[1]);
    const m = new SimulatedMachine(
      `train-${k}`,
      wears ? withAcceleratedWear(model, life) : model,
      rng.fork(`machine-${k}`),
      {
        ...DEFAULT_BEHAVIOUR,
        meanRegimeDuration: 3 * 3600,
        repairTime: 3600,
      },
    );
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
 * The readings of a track at `horizons` (hours, ascending) after reading `anchor`, standardised,
 * [P, D] row-major with a mask: per sensor, its reading nearest to the target time within 5% of the
 * horizon (at least a minute); masked where there is none (the track ends, or the sensor is silent).
 */
function futureReadings(
  track: Track,
  anchor: number,
  horizons: readonly number[],
  D: number,
  norm: { offset: number[]; scale: number[] },
): { values: Float32Array; mask: Float32Array } {
  const P = horizons.length;
  const values = new Float32Array(P * D);
  const mask = new Float32Array(P * D);
  const times = track.times;
  const n = times.length;
  horizons.forEach((h, p) => {
    const target = times[anchor] + h;
    const tol = Math.max(0.05 * h, 1 / 60);
    if (times[n - 1] < target - tol) return;
    let lo = anchor;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    for (let d = 0; d < D; d++) {
      let best = -1;
      let bestGap = tol;
      for (let i = lo; i < n && times[i] - target <= bestGap; i++)
        if (track.mask[i * D + d]) {
          best = i;
          bestGap = times[i] - target;
          break;
        }
      for (let i = lo - 1; i > anchor && target - times[i] <= bestGap; i--)
        if (track.mask[i * D + d]) {
          best = i;
          break;
        }
      if (best < 0) continue;
      mask[p * D + d] = 1;
      values[p * D + d] = (track.values[best * D + d] - norm.offset[d]) / norm.scale[d];
    }
  });
  return { values, mask };
}

/** FORECAST_POINTS horizons (hours), log-uniform in [FORECAST_MIN_H, maxH], ascending. */
function forecastHorizons(rng: NeuralRng, maxH: number): number[] {
  const lo = Math.log(FORECAST_MIN_H);
  const hi = Math.log(maxH);
  const hs = Array.from({ length: FORECAST_POINTS }, () => Math.exp(lo + (hi - lo) * rng.uniform()));
  hs.sort((a, b) => a - b);
  // Strictly increasing output times for odeint.
  for (let p = 1; p < hs.length; p++) if (hs[p] <= hs[p - 1]) hs[p] = hs[p - 1] + 1e-3;
  return hs;
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

  /** Each stream's readings at `horizons` after its current window's last reading: [P, B, D]. */
  futures(horizons: readonly number[]): { values: Float32Array; mask: Float32Array } {
    const P = horizons.length;
    const D = this.D;
    const values = new Float32Array(P * BATCH * D);
    const mask = new Float32Array(P * BATCH * D);
    for (let b = 0; b < BATCH; b++) {
      const f = futureReadings(this.tracks[this.track[b]], this.pos[b] + WINDOW - 1, horizons, D, this.norm);
      for (let p = 0; p < P; p++) {
        values.set(f.values.subarray(p * D, (p + 1) * D), (p * BATCH + b) * D);
        mask.set(f.mask.subarray(p * D, (p + 1) * D), (p * BATCH + b) * D);
      }
    }
    return { values, mask };
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
): { loss: tf.Scalar; nll: number; mse: number; h: Float32Array; hT: tf.Tensor } {
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
  return {
    loss,
    nll: loss.dataSync()[0],
    mse: mse.dataSync()[0],
    h: run.h.dataSync() as Float32Array,
    hT: run.h,
  };
}

/**
 * Multi-horizon forecast loss: from filtered states h [B, H] (a window's last reading), integrates
 * the latent ODE forward with no readings (as `ModelBank.forecast` does, dopri5 with its tolerances;
 * here with backpropagation through the steps) to `horizons` (hours, ascending) and scores the readings there,
 * [P, B, D] with a mask, by the masked Gaussian NLL of the read-out (mean and variance). The one-step
 * loss alone never asks the latent dynamics for anything beyond the next reading (seconds to
 * minutes); this asks them to forecast up to a day ahead with honest spreads. `jitter` adds Gaussian
 * noise to the initial states, as the twin's forecast samples do, so that nearby states must
 * forecast alike (no divergent trajectories from a slightly perturbed state).
 */
function forecastLoss(
  model: OdeRnnModel,
  h: tf.Tensor,
  horizons: readonly number[],
  target: { values: Float32Array; mask: Float32Array },
  jitter: number,
): { loss: tf.Scalar; nll: number } | null {
  const n = target.mask.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const [B, H] = h.shape as [number, number];
  const P = horizons.length;
  const D = model.config.obsDim;
  const y0 = jitter > 0 ? tf.add(h, tf.randomNormal([B, H], 0, jitter)) : h;
  const field = model.rnn.field;
  const sol = odeint((t, z) => field.apply(t, z), y0, [0, ...horizons], {
    method: DEFAULT_SOLVER.method as 'dopri5',
    rtol: DEFAULT_SOLVER.rtol,
    atol: DEFAULT_SOLVER.atol,
    maxSteps: FORECAST_MAX_STEPS,
  });
  model.nfe.addForward(sol.stats.nfe);
  const ys = tf.reshape(tf.slice(sol.ys, [1, 0, 0], [P, B, H]), [P * B, H]);
  const { mean, logVar } = model.readout(ys);
  const x = tf.tensor2d(target.values, [P * B, D]);
  const m = tf.tensor2d(target.mask, [P * B, D]);
  const sq = tf.square(tf.sub(x, mean));
  const terms = tf.mul(tf.add(tf.add(logVar, Math.log(2 * Math.PI)), tf.mul(sq, tf.exp(tf.neg(logVar)))), 0.5);
  const loss = tf.div(tf.sum(tf.mul(terms, m)), n) as tf.Scalar;
  return { loss, nll: loss.dataSync()[0] };
}

/**
 * Held-out machines' long runs from zero state (VAL_WINDOW readings, about 80 minutes), scored after
 * the first VAL_WARMUP readings: the filter's steady-state NLL, as the twin runs it; and the readings
 * VAL_HORIZONS after each run's last reading, for the forecast loss (runs start in the first half of a
 * track, so that a day ahead is still on it).
 */
function validationBatch(
  tracks: Track[],
  D: number,
  norm: { offset: number[]; scale: number[] },
): { seq: Sequences; score: Float32Array; future: { values: Float32Array; mask: Float32Array } } {
  const rng = new NeuralRng(999);
  const series: Series[] = [];
  const P = VAL_HORIZONS.length;
  const future = { values: new Float32Array(P * VAL_SERIES * D), mask: new Float32Array(P * VAL_SERIES * D) };
  for (let b = 0; b < VAL_SERIES; b++) {
    const t = tracks[b % tracks.length];
    const room = Math.max(Math.floor(t.times.length / 2) - VAL_WINDOW, 1);
    const start = Math.floor(rng.uniform() * Math.min(room, t.times.length - VAL_WINDOW));
    series.push(windowOf(t, start, D, norm, 0, VAL_WINDOW));
    const f = futureReadings(t, start + VAL_WINDOW - 1, VAL_HORIZONS, D, norm);
    for (let p = 0; p < P; p++) {
      future.values.set(f.values.subarray(p * D, (p + 1) * D), (p * VAL_SERIES + b) * D);
      future.mask.set(f.mask.subarray(p * D, (p + 1) * D), (p * VAL_SERIES + b) * D);
    }
  }
  const seq = packSeries(series, D);
  const score = seq.mask.slice();
  score.fill(0, 0, VAL_WARMUP * seq.B * D);
  return { seq, score, future };
}

const EVAL_MACHINES = Number(process.env.EVAL_MACHINES ?? 8);
const EVAL_HOURS = Number(process.env.EVAL_HOURS ?? 8);
const EVAL_WARMUP_HOURS = 1;
const EVAL_FORECAST_HOURS = 24;
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
    // A day more than the twin filters: what its forecasts are scored against.
    const all = m.advance((EVAL_HOURS + EVAL_FORECAST_HOURS) * 3600).samples;
    const t0 = all[0]?.t ?? 0;
    return { id: m.machineId, samples: all.filter((x) => x.t - t0 < EVAL_HOURS * 3600), future: all };
  });
  const thresholds = Object.fromEntries(
    machineModel.sensors.filter((x) => x.failureThreshold).map((x) => [x.name, x.failureThreshold!]),
  );
  const forecastRng = new NeuralRng(4242);
  const forecastStats = { forecasts: 0, alarmed: 0, inside: new Float64Array(D), scored: new Float64Array(D) };
  const crossingSum: Record<string, number> = Object.fromEntries(Object.keys(thresholds).map((k) => [k, 0]));
  /**
   * 24 h forecasts of every live machine (as the twin makes them: ModelBank.forecast, 32 samples, 24
   * points): whether the default forecast rule would raise (half the samples cross a failure limit),
   * each limit's crossing probability, and how often the machine's real readings fall inside the
   * forecast's p10-p90 band (80% when calibrated).
   */
  const forecastAll = (ids: { id: string; j: number }[]) => {
    const f = bank.forecast(
      ids.map((x) => x.id),
      (EVAL_FORECAST_HOURS * 3_600_000) / twin.timeScaleMs,
      24,
      32,
      () => forecastRng.normal(),
    );
    const summaries = summariseForecast(f, twin.sensors, {
      fromMs: (id) => bank.timeOf(id),
      thresholds: () => thresholds,
      timeScaleMs: twin.timeScaleMs,
      modelVersion: 'eval',
    });
    summaries.forEach((sum, m) => {
      forecastStats.forecasts++;
      if (sum.rulSamplesMs.filter(Number.isFinite).length >= 0.5 * sum.samples) forecastStats.alarmed++;
      for (const [name, pr] of Object.entries(sum.crossingProbability)) crossingSum[name] += pr;
      const future = streams[ids[m].j].future;
      sum.times.forEach((tMs, k) => {
        const tol = Math.max(0.05 * (tMs - sum.fromMs), 60_000);
        twin.sensors.forEach((name, d) => {
          let best: number | undefined;
          let gap = tol;
          for (const x of future) {
            const v = x.values[name];
            if (typeof v !== 'number' || !Number.isFinite(v)) continue;
            const g = Math.abs(x.t * 1000 - tMs);
            if (g <= gap) {
              gap = g;
              best = v;
            }
          }
          if (best === undefined) return;
          const band = sum.sensors[name];
          forecastStats.scored[d]++;
          if (best >= band.p10[k] && best <= band.p90[k]) forecastStats.inside[d]++;
        });
      });
    });
  };
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
  const forecastRounds = new Set([0.25, 0.5, 0.75, 1].map((q) => Math.max(Math.floor(q * rounds) - 1, 0)));
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
    if (forecastRounds.has(r)) forecastAll(live.map(({ s, j }) => ({ id: s.id, j })));
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
  console.log(
    `  ${EVAL_FORECAST_HOURS} h forecasts (32 samples, at 1/4, 1/2, 3/4 and the end of the run): ${forecastStats.alarmed}/${forecastStats.forecasts} would raise the forecast rule (half the samples cross a limit); mean crossing probability ${Object.entries(
      crossingSum,
    )
      .map(([k, v]) => `${k} ${(v / Math.max(forecastStats.forecasts, 1)).toFixed(2)}`)
      .join(', ')}; real readings inside p10-p90: ${twin.sensors
      .map((name, d) => `${name} ${(forecastStats.inside[d] / Math.max(forecastStats.scored[d], 1)).toFixed(2)}`)
      .join(', ')}`,
  );
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
    const horizonRng = new NeuralRng(77 + index);
    let valParts = { step: NaN, forecast: NaN };
    let bestParts = valParts;
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
      lossFn: (): BatchLoss => {
        const { seq, h0 } = streams.next();
        const r = filterLoss(model, seq, h0);
        // Curriculum: the longest horizon grows from 1 h to FORECAST_MAX_H over the first 30% of the budget.
        const ramp = Math.min(1, (Date.now() - started) / 1000 / (0.3 * SECONDS));
        const horizons = forecastHorizons(horizonRng, Math.exp(Math.log(FORECAST_MAX_H) * ramp));
        let f: { loss: tf.Scalar; nll: number } | null = null;
        try {
          if (FORECAST_WEIGHT > 0) f = forecastLoss(model, r.hT, horizons, streams.futures(horizons), FORECAST_JITTER);
        } catch (err) {
          // A free run that blows up (non-finite) skips this batch's forecast term.
          console.warn(`forecast loss skipped: ${(err as Error).message}`);
        }
        if (f && !Number.isFinite(f.nll)) {
          // Non-finite: no gradient to follow (a large finite loss is fine: the gradient norm is clipped).
          console.warn(`forecast loss skipped: NLL ${f.nll}`);
          f = null;
        }
        streams.carry(r.h);
        if (!f) return { loss: r.loss, parts: { mse: r.mse, step: r.nll } };
        return {
          loss: tf.add(r.loss, tf.mul(f.loss, FORECAST_WEIGHT)) as tf.Scalar,
          parts: { mse: r.mse, step: r.nll, forecast: f.nll },
        };
      },
      validate: () => {
        const r = filterLoss(model, validation.seq, null, validation.score);
        let f: { nll: number } | null;
        try {
          f = forecastLoss(model, r.hT, VAL_HORIZONS, validation.future, 0);
        } catch (err) {
          // The validation free run blew up (the solver's step limit: the field has stiffened). This
          // epoch's weights are not a candidate: an infinite loss is never the best, and training goes
          // on (it used to end the run, and lose every asset type after this one).
          console.warn(
            `${machineModel.assetType}: validation forecast failed, epoch not kept: ${(err as Error).message}`,
          );
          valParts = { step: r.nll, forecast: NaN };
          return FORECAST_WEIGHT > 0 ? Infinity : r.nll;
        }
        valParts = { step: r.nll, forecast: f?.nll ?? NaN };
        return FORECAST_WEIGHT > 0 && f ? r.nll + FORECAST_WEIGHT * f.nll : r.nll;
      },
      maxSeconds: SECONDS,
      onProgress: (p) => {
        if (p.best) bestParts = valParts;
        if (p.epoch % 5 === 0)
          console.log(
            `${machineModel.assetType} epoch ${p.epoch}: loss ${p.loss.toFixed(3)} (one-step ${p.parts.step?.toFixed(3)}, forecast ${p.parts.forecast?.toFixed(3)}) val ${p.valLoss?.toFixed(3)} (one-step ${valParts.step.toFixed(3)}, forecast ${valParts.forecast.toFixed(3)}) mse ${p.parts.mse?.toFixed(3)} lr ${p.lr.toExponential(1)} NFE/batch ${p.nfeForward.toFixed(0)} (${p.elapsed.toFixed(0)} s)`,
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
      metrics: {
        valLoss: result.bestValLoss,
        valNll: bestParts.step,
        valForecastNll: bestParts.forecast,
        epochs: result.history.length,
        seconds: result.seconds,
      },
      trainingData: {
        source: 'apps/simulator',
        description: `${tracks.length} simulated ${machineModel.assetType} machines x ${HOURS} h${WEAR_FRACTION > 0 ? ` (${Math.round(WEAR_FRACTION * 100)}% wearing out in ${WEAR_LIFE_DAYS.join('-')} days, repaired after failures)` : ''}, windows of ${WINDOW} readings, state carried ${CARRY ? 'between consecutive windows' : 'nowhere (each window from zero)'}, one-step NLL${FORECAST_WEIGHT > 0 ? ` + ${FORECAST_WEIGHT} x forecast NLL (${FORECAST_POINTS} horizons ${FORECAST_MIN_H.toFixed(2)}-${FORECAST_MAX_H} h per window end, jitter ${FORECAST_JITTER})` : ''}`,
        assetType: machineModel.assetType,
      },
      extra: {
        assetType: machineModel.assetType,
        script: 'scripts/train-default-model.ts',
        ...(INIT ? { fineTunedFrom: path.relative(process.cwd(), INIT) } : {}),
      },
    });
    console.log(
      `${machineModel.assetType}: val loss ${result.bestValLoss.toFixed(3)} (one-step NLL ${bestParts.step.toFixed(3)}, forecast NLL ${bestParts.forecast.toFixed(3)}) after ${result.history.length} epochs -> ${dir}`,
    );
    evaluate(machineModel, dir, 500 + index);
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
