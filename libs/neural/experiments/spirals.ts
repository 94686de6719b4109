/**
 * Chen et al. 2018's latent-ODE spiral experiment (§5.1, Table 2), shared by the experiment script and
 * bench/neural.bench.ts. Spirals as in torchdiffeq's examples/latent_ode.py: 1000 points over [0, 6π],
 * clockwise r = b·50/(6π + 1 − θ) shifted to x − 5, counter-clockwise r = b·θ shifted to x + 5, a = 0,
 * b = 0.3; each trajectory is 100 consecutive points from a random start, Gaussian noise σ = 0.1.
 * Protocol here: 30 irregular points observed among the first 50, extrapolation scored on the last 50
 * (noise-free truth), times = index · 0.1.
 */
import * as tf from '@tensorflow/tfjs';
import { Dense, LatentOde, MaskedGru, NeuralModel, packSeries, Rng, unionSeries, type Series } from '@continuum/neural';

export interface Spiral {
  clean: Float32Array; // [100, 2]
  noisy: Float32Array;
  obsIdx: number[]; // 30 observed indices in [0, 50)
}

export const N_SAMPLE = 100;
export const DT = 0.1;

/** Generates `n` spirals (half clockwise, half counter-clockwise, random starts). */
export function makeSpirals(n: number, seed: number, nObs = 30, noise = 0.1): Spiral[] {
  const rng = new Rng(seed);
  const total = 1000;
  const stop = 6 * Math.PI;
  const ts = Array.from({ length: total }, (_, i) => (stop * i) / (total - 1));
  return Array.from({ length: n }, (_, k) => {
    const cw = k % 2 === 0;
    const t0 = N_SAMPLE + rng.int(total - 3 * N_SAMPLE);
    const clean = new Float32Array(N_SAMPLE * 2);
    const noisy = new Float32Array(N_SAMPLE * 2);
    for (let i = 0; i < N_SAMPLE; i++) {
      const t = ts[t0 + i];
      let x: number, y: number;
      if (cw) {
        const z = stop + 1 - t;
        const r = (0.3 * 50) / z;
        x = r * Math.cos(z) - 5;
        y = r * Math.sin(z);
      } else {
        const r = 0.3 * t;
        x = r * Math.cos(t) + 5;
        y = r * Math.sin(t);
      }
      clean[2 * i] = x;
      clean[2 * i + 1] = y;
      noisy[2 * i] = x + noise * rng.normal();
      noisy[2 * i + 1] = y + noise * rng.normal();
    }
    const obsIdx = rng
      .shuffle(Array.from({ length: N_SAMPLE / 2 }, (_, i) => i))
      .slice(0, nObs)
      .sort((a, b) => a - b);
    return { clean, noisy, obsIdx };
  });
}

export function observed(s: Spiral): Series {
  return {
    times: s.obsIdx.map((i) => i * DT),
    values: Float32Array.from(s.obsIdx.flatMap((i) => [s.noisy[2 * i], s.noisy[2 * i + 1]])),
  };
}

/**
 * Latent ODE with the paper's sizes, laid out as torchdiffeq's examples/latent_ode.py: 4-d latent,
 * 25-unit recognition RNN, dynamics 4 → 20 → 20 → 4 (two hidden layers of 20, ELU), decoder 4 → 20 → 2,
 * the observation noise std fixed at 0.3 in the likelihood. `learnObsStd` learns it per coordinate
 * instead; `dynHidden` changes the dynamics' hidden layers (one layer of 20 plateaus at about twice the
 * extrapolation error, docs/neural.md).
 */
export function paperLatentOde(
  gradient: 'adjoint' | 'backprop',
  seed = 1,
  options: { learnObsStd?: boolean; dynHidden?: number[] } = {},
): LatentOde {
  return new LatentOde({
    obsDim: 2,
    latentDim: 4,
    recHidden: 25,
    recOdeHidden: [25],
    dynHidden: options.dynHidden ?? [20, 20],
    decoderHidden: [20],
    activation: 'elu',
    obsStd: 0.3,
    fixedObsStd: !options.learnObsStd,
    solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-4, gradient },
    seed,
  });
}

/**
 * RNN baseline "trained the same way": a GRU encoder with Δt inputs reads the observations backwards
 * (as the Latent ODE's recognition network), a GRU decoder driven only by Δt generates the trajectory
 * forwards from the first observation time; trained on the MSE of the observed points.
 */
export class RnnBaseline extends NeuralModel<{ hidden: number; seed?: number }> {
  readonly kind = 'spiral-rnn-baseline';
  readonly enc: MaskedGru;
  readonly dec: MaskedGru;
  readonly init: Dense;
  readonly out: Dense;

  constructor(config: { hidden: number; seed?: number }) {
    super(config);
    const s = this.params.scope('rnn');
    this.enc = new MaskedGru(s.scope('enc'), 3, config.hidden);
    this.dec = new MaskedGru(s.scope('dec'), 1, config.hidden);
    this.init = new Dense(s.scope('init'), config.hidden, config.hidden);
    this.out = new Dense(s.scope('out'), config.hidden, 2);
  }

  /** Predicted means at `times` (shared, increasing, starting at or after each series' first time): [T, B, 2]. */
  forward(series: Series[], times: number[]): tf.Tensor {
    const B = series.length;
    // Backwards over each series' own observations, with Δt as an input channel.
    const rev = series.map((s) => {
      const n = s.times.length;
      const vals: number[] = [];
      const ts: number[] = [];
      for (let k = n - 1; k >= 0; k--) {
        const dt = k === n - 1 ? 0 : s.times[k + 1] - s.times[k];
        vals.push(s.values[2 * k], s.values[2 * k + 1], dt);
        ts.push(-s.times[k]);
      }
      return { times: ts, values: vals };
    });
    const seq = packSeries(rev, 3);
    const x = tf.unstack(tf.tensor3d(seq.values, [seq.T, B, 3]));
    const m = tf.unstack(tf.tensor3d(seq.mask, [seq.T, B, 3]));
    let h: tf.Tensor = tf.zeros([B, this.config.hidden]);
    for (let i = 0; i < seq.T; i++) h = this.enc.update(h, x[i], m[i]);
    h = tf.tanh(this.init.apply(h));
    const outs: tf.Tensor[] = [];
    const ones = tf.ones([B, 1]);
    let prev = Float32Array.from(series.map((s) => s.times[0]));
    for (const t of times) {
      const dt = tf.tensor2d(
        Float32Array.from(prev, (p) => t - p),
        [B, 1],
      );
      h = this.dec.update(h, dt, ones);
      prev = new Float32Array(B).fill(t);
      outs.push(this.out.apply(h));
    }
    return tf.stack(outs);
  }
}

/** Latent ODE training batch: encoder input and reconstruction target are the observed points. */
export function latentBatch(spirals: Spiral[]) {
  const seq = unionSeries(spirals.map(observed), 2);
  return { seq };
}

/** Extrapolation (last 50, noise-free) and interpolation (unobserved of the first 50) RMSE of predicted means [100, B, 2] on the grid. */
export function scoreGrid(
  spirals: Spiral[],
  mean: Float32Array,
  t0Index: number[],
): { extrap: number; interp: number } {
  const B = spirals.length;
  let se = 0;
  let ne = 0;
  let si = 0;
  let ni = 0;
  spirals.forEach((s, b) => {
    const obs = new Set(s.obsIdx);
    for (let i = t0Index[b]; i < N_SAMPLE; i++) {
      for (let d = 0; d < 2; d++) {
        const err = (mean[(i * B + b) * 2 + d] - s.clean[2 * i + d]) ** 2;
        if (i >= N_SAMPLE / 2) {
          se += err;
          ne++;
        } else if (!obs.has(i)) {
          si += err;
          ni++;
        }
      }
    }
  });
  return { extrap: Math.sqrt(se / ne), interp: Math.sqrt(si / Math.max(ni, 1)) };
}
