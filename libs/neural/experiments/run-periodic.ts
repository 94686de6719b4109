/**
 * Irregular periodic toy (Rubanova, Chen & Duvenaud 2019, §4 "Toy dataset"): 1-D periodic functions,
 * 50% of each trajectory's points dropped at random; interpolation MSE of an ODE-RNN and of a Latent ODE
 * (ODE-RNN encoder) that reconstruct every point of the trajectory from the kept half.
 *
 *   node -r @swc-node/register libs/neural/experiments/run-periodic.ts [--seconds 300] [--models lode,odernn]
 *     [--n 1000] [--batch 50] [--keep 0.5] [--epochs 500] [--lr 1e-2] [--tag <suffix>]
 *
 * Setup, as in the paper's code (github.com/YuliaRubanova/latent_ode: generate_timeseries.py
 * `Periodic_1d`, lib/parse_datasets.py, run_models.py; README command
 * `run_models.py --niters 500 -n 1000 -s 50 -l 10 --dataset periodic --latent-ode --noise-weight 0.01`):
 * - 1000 trajectories on 100 shared time points: t = 0 and 99 uniform draws on [0, 5], sorted;
 *   x(t) = sin(2π f t) + x0 with f ~ U[0.4, 0.8], amplitude 1, x0 = 1 + N(0, 0.1²); noise
 *   0.01·U[0, 1) on every point but the first (the code's `np.random.sample`; the paper's text says
 *   Gaussian noise); 80% train, 20% test.
 * - Interpolation: each trajectory keeps int(100 · 0.5) = 50 random points (a new draw for every
 *   training batch, a fixed one for the test set); the models reconstruct all 100 points; MSE over
 *   all 100 points of the test trajectories against the noisy data (as the code's `compute_mse`),
 *   averaged over 3 z0 samples for the Latent ODE. Also reported: MSE at the dropped points only and
 *   against the noise-free function.
 * - Latent ODE: 10-d latent, recognition ODE-RNN of 20 units (its ODE field and z0 head 100 tanh units,
 *   one Euler step per interval), latent dynamics 100 tanh units solved by dopri5 (rtol 1e-3, atol
 *   1e-4; backprop through the solver, like the paper's code, which calls `odeint`), linear decoder,
 *   fixed observation std 0.01, 3 z0 samples per trajectory, KL weight 0 for 50 epochs then
 *   1 − 0.993^(epoch − 50).
 * - ODE-RNN: 10 hidden units, ODE field 100 tanh units (Euler per interval), linear read-out of the state
 *   after each update (at dropped points: the ODE-evolved state), trained on the MSE over all points
 *   (the paper's Gaussian likelihood with fixed std 0.01 is the MSE up to constants).
 * - Batch 50, learning rate 1e-2 decayed by 0.999 per iteration down to 1e-3.
 *
 * Differences: Adam instead of Adamax; the GRU is a plain GRU (the paper's update/reset/new-state
 * nets have a 100-unit hidden layer); the Latent ODE's encoder sees only the kept points (plus t = 0),
 * so its Euler steps span the gaps between kept points instead of every grid interval; and, above
 * all, training is cut by the time budget (the paper trains 500 epochs).
 *
 * Writes libs/neural/experiments/results/periodic.json.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { LatentOde, OdeRnnModel, packSeries, Rng, type Sequences, type Series, train } from '@continuum/neural';

const T = 100;
const MAX_T = 5;

interface Dataset {
  times: number[];
  /** [n, T] */
  clean: Float32Array;
  noisy: Float32Array;
  n: number;
}

function periodic(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const times = [0, ...Array.from({ length: T - 1 }, () => MAX_T * rng.uniform())].sort((a, b) => a - b);
  const clean = new Float32Array(n * T);
  const noisy = new Float32Array(n * T);
  for (let b = 0; b < n; b++) {
    const f = 0.4 + 0.4 * rng.uniform();
    const x0 = 1 + 0.1 * rng.normal();
    for (let i = 0; i < T; i++) {
      const x = Math.sin(2 * Math.PI * f * times[i]) + x0;
      clean[b * T + i] = x;
      noisy[b * T + i] = i === 0 ? x : x + 0.01 * rng.uniform();
    }
  }
  return { times, clean, noisy, n };
}

/** int(T · keep) random kept indices per trajectory, sorted. */
function keepMask(count: number, keep: number, rng: Rng): number[][] {
  const k = Math.floor(T * keep);
  return Array.from({ length: count }, () =>
    rng
      .shuffle(Array.from({ length: T }, (_, i) => i))
      .slice(0, k)
      .sort((a, b) => a - b),
  );
}

/** The full grid of trajectories `idx`: values, with mask 1 at `kept` (or everywhere). */
function gridSeq(d: Dataset, idx: number[], kept?: number[][]): Sequences {
  const B = idx.length;
  const values = new Float32Array(T * B);
  const mask = new Float32Array(T * B);
  const times = new Float32Array(T * B);
  idx.forEach((j, b) => {
    const on = kept ? new Set(kept[b]) : null;
    for (let i = 0; i < T; i++) {
      times[i * B + b] = d.times[i];
      if (!on || on.has(i)) {
        values[i * B + b] = d.noisy[j * T + i];
        mask[i * B + b] = 1;
      }
    }
  });
  return { T, B, D: 1, values, mask, times };
}

/** Kept points only, each series starting at t = 0 (masked there when t = 0 was dropped). */
function keptSeq(d: Dataset, idx: number[], kept: number[][]): Sequences {
  const series: Series[] = idx.map((j, b) => {
    const ks = kept[b];
    const times = ks.map((i) => d.times[i]);
    const values = ks.map((i) => d.noisy[j * T + i]);
    const mask = ks.map(() => 1);
    if (ks[0] !== 0) {
      times.unshift(0);
      values.unshift(0);
      mask.unshift(0);
    }
    return { times, values, mask };
  });
  return packSeries(series, 1);
}

function paperLatentOde(seed: number): LatentOde {
  return new LatentOde({
    obsDim: 1,
    latentDim: 10,
    recHidden: 20,
    recOdeHidden: [100],
    z0Hidden: [100],
    dynHidden: [100],
    activation: 'tanh',
    obsStd: 0.01,
    fixedObsStd: true,
    encoderSolver: { method: 'euler', gradient: 'backprop' },
    solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-4, gradient: 'backprop' },
    seed,
  });
}

function paperOdeRnn(seed: number): OdeRnnModel {
  return new OdeRnnModel({
    obsDim: 1,
    hiddenDim: 10,
    odeHidden: [100],
    activation: 'tanh',
    solver: { method: 'euler', gradient: 'backprop' },
    seed,
  });
}

/** ODE-RNN reconstruction of the full grid: read-out of the state after each step's update, [T, B]. */
function odeRnnRecon(m: OdeRnnModel, seq: Sequences): tf.Tensor {
  const run = m.rnn.run(seq, { collect: true, counter: m.nfe });
  const hs = tf.stack(run.hs as tf.Tensor[]);
  const { mean } = m.readout(tf.reshape(hs, [seq.T * seq.B, m.config.hiddenDim]));
  return tf.reshape(mean, [seq.T, seq.B]);
}

/** MSE parts of predictions [S, T, B] against the test trajectories. */
function score(pred: Float32Array, S: number, d: Dataset, idx: number[], kept: number[][]) {
  const B = idx.length;
  let all = 0;
  let dropped = 0;
  let nDropped = 0;
  let clean = 0;
  for (let s = 0; s < S; s++)
    idx.forEach((j, b) => {
      const on = new Set(kept[b]);
      for (let i = 0; i < T; i++) {
        const p = pred[(s * T + i) * B + b];
        const e = (p - d.noisy[j * T + i]) ** 2;
        all += e;
        clean += (p - d.clean[j * T + i]) ** 2;
        if (!on.has(i)) {
          dropped += e;
          nDropped++;
        }
      }
    });
  return { mse: all / (S * B * T), mseDropped: dropped / nDropped, mseClean: clean / (S * B * T) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string, d: number) => (argv.includes(`--${k}`) ? Number(argv[argv.indexOf(`--${k}`) + 1]) : d);
  const models = (argv.includes('--models') ? argv[argv.indexOf('--models') + 1] : 'lode,odernn').split(',');
  const seconds = opt('seconds', 300);
  const n = opt('n', 1000);
  const bs = opt('batch', 50);
  const keep = opt('keep', 0.5);
  const epochs = opt('epochs', 500);
  const lr = opt('lr', 1e-2);
  // Result keys get this suffix (several runs side by side in periodic.json).
  const tag = argv.includes('--tag') ? argv[argv.indexOf('--tag') + 1] : '';
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const data = periodic(n, 1991);
  const nTrain = Math.floor(0.8 * n);
  const trainIdx = Array.from({ length: nTrain }, (_, i) => i);
  const testIdx = Array.from({ length: n - nTrain }, (_, i) => nTrain + i);
  const testKept = keepMask(testIdx.length, keep, new Rng(7));
  const perEpoch = Math.ceil(nTrain / bs);
  // lr 1e-2 · 0.999^iteration, floor 1e-3 (the paper's per-iteration decay, applied per epoch here).
  const schedule = (epoch: number, base: number) => Math.max(base * 0.999 ** (epoch * perEpoch), base / 10);
  const batches = (_e: number, rng: Rng) => {
    const order = rng.shuffle([...trainIdx]);
    return Array.from({ length: perEpoch }, (_, k) => {
      const idx = order.slice(k * bs, (k + 1) * bs);
      return { idx, kept: keepMask(idx.length, keep, rng) };
    });
  };
  const log =
    (name: string) =>
    (p: { epoch: number; loss: number; parts: Record<string, number>; nfeForward: number; elapsed: number }) =>
      console.log(
        `${name} epoch ${p.epoch + 1} loss ${p.loss.toFixed(4)} ${JSON.stringify(Object.fromEntries(Object.entries(p.parts).map(([k, v]) => [k, +v.toPrecision(4)])))} NFE ${p.nfeForward.toFixed(0)} ${p.elapsed.toFixed(0)} s`,
      );
  const results: Record<string, unknown> = {
    [`command${tag}`]: `run-periodic.ts --seconds ${seconds} --n ${n} --batch ${bs} --keep ${keep} --epochs ${epochs} --lr ${lr}${tag ? ` --tag ${tag}` : ''}`,
    protocol:
      '1000 periodic trajectories (paper code Periodic_1d), 100 shared times on [0, 5], keep int(100*keep) points; MSE over all 100 points of 200 test trajectories vs noisy data (Latent ODE: averaged over 3 z0 samples)',
  };

  if (models.includes('lode')) {
    const m = paperLatentOde(1);
    const r = train(m, {
      epochs,
      lr,
      schedule,
      seed: 1,
      maxSeconds: seconds,
      batches,
      lossFn: (b, epoch) => {
        const klWeight = epoch < 50 ? 0 : 1 - 0.993 ** (epoch - 50);
        const parts = m.loss(keptSeq(data, b.idx, b.kept), gridSeq(data, b.idx), { samples: 3, klWeight });
        return { loss: parts.loss, parts: { mse: parts.mse, kl: parts.kl, klWeight } };
      },
      onProgress: log('latent-ode'),
    });
    const pred = m.predict(keptSeq(data, testIdx, testKept), data.times, 3);
    const nfe = m.nfe.take();
    results[`latentOde${tag}`] = {
      epochs: r.history.length,
      seconds: r.seconds,
      trainMseLastEpoch: r.history.at(-1)?.parts.mse,
      nfeForwardPerBatch: r.history.at(-1)?.nfeForward,
      testNfeForward: nfe.forward,
      ...score(pred.samples, 3, data, testIdx, testKept),
      mseOfMean: score(pred.mean, 1, data, testIdx, testKept).mse,
    };
    console.log(JSON.stringify(results[`latentOde${tag}`]));
    m.dispose();
  }

  if (models.includes('odernn')) {
    const m = paperOdeRnn(1);
    const r = train(m, {
      epochs,
      lr,
      schedule,
      seed: 1,
      maxSeconds: seconds,
      batches,
      lossFn: (b) => {
        const full = gridSeq(data, b.idx);
        const recon = odeRnnRecon(m, gridSeq(data, b.idx, b.kept));
        const loss = tf.mean(tf.square(tf.sub(recon, tf.tensor2d(full.values, [T, b.idx.length])))) as tf.Scalar;
        return { loss, parts: { mse: loss.dataSync()[0] } };
      },
      onProgress: log('ode-rnn'),
    });
    const pred = tf.tidy(() => odeRnnRecon(m, gridSeq(data, testIdx, testKept)).dataSync() as Float32Array);
    m.nfe.take();
    results[`odeRnn${tag}`] = {
      epochs: r.history.length,
      seconds: r.seconds,
      trainMseLastEpoch: r.history.at(-1)?.parts.mse,
      ...score(pred, 1, data, testIdx, testKept),
    };
    console.log(JSON.stringify(results[`odeRnn${tag}`]));
    m.dispose();
  }
  fs.mkdirSync('libs/neural/experiments/results', { recursive: true });
  const file = 'libs/neural/experiments/results/periodic.json';
  const previous = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(file, JSON.stringify({ ...previous, ...results }, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
