/**
 * `npm run bench:adjoint` — adjoint sensitivity gradients against backprop through the solver (issue 4).
 *
 * Loss Σ y(T)² of dopri5 (rtol 1e-5, atol 1e-6) on the MLP field of `bench:ode` (d = 16, hidden 64,
 * tanh written as 2σ(2z) − 1 with the affine parts folded into the weights — the WASM-friendly form —
 * fixed seed; weights and biases are tf.Variables, the gradient is w.r.t. y0 and all six) for
 * B = 256 and 1024 and T = 1, 10, 100, on the WASM backend. For each: forward time, backward time and
 * their ratio, forward and backward NFE, and the peak of live tensor bytes above the starting point
 * (sampled at every evaluation of f during the whole gradient computation), for
 *   - odeintAdjoint, default mixed norm,
 *   - odeintAdjoint with adjointNorm: 'seminorm',
 *   - backprop: TensorFlow.js autodiff through the unrolled odeint;
 * and the same adjoint solves with the hand-written VJP of libs/neural's NeuralVectorField (the same
 * weights; `vjp: field.adjointVjp(params)`, weights transposed once per backward pass: '+vjp'), and
 * through the field's custom-gradient `apply` (what libs/neural models use by default: '+apply').
 * A mode suffixed '@untuned' (e.g. 'seminorm@untuned') runs with the WASM backend's own kernels, as
 * before `tuneWasmKernels` (libs/ode/src/backend/wasm-kernels.ts), for before/after in one run.
 * BENCH_ADJOINT_MODES, BENCH_ADJOINT_B and BENCH_ADJOINT_T (comma-separated) restrict the runs;
 * BENCH_ADJOINT_REPEAT=n runs the whole selection n times (interleaved) and summarises medians.
 * Times are given as wall time and as process CPU time (user + system): on a shared machine the
 * CPU time of this single-threaded process is the steadier measure of the work done.
 * Backprop at B = 1024, T = 100 is skipped (its tape holds every stage of every step: ~0.5 GB here,
 * and minutes of run time on this shared machine). One run per configuration (plus one warm-up).
 */
import * as tf from '@tensorflow/tfjs';
import {
  initTensorBackend,
  odeint,
  odeintAdjoint,
  tuneWasmKernels,
  type FieldVjp,
  type TensorField,
} from '@continuum/ode';
import { NeuralVectorField, ParamStore, Rng } from '@continuum/neural';

const D = 16;
const H = 64;
const SEED = 1234;
const RTOL = 1e-5;
const ATOL = 1e-6;

function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** The bench:ode MLP (same seed and draws) in sigmoid form, with its weights as tf.Variables. */
function makeField(): { f: TensorField; params: tf.Variable[]; nvf: NeuralVectorField; vjp: FieldVjp } {
  const rand = uniform(SEED);
  const dims = [D, H, H, D];
  const W: number[][][] = [];
  const Bs: number[][] = [];
  for (let l = 0; l < 3; l++) {
    const s = Math.sqrt(6 / (dims[l] + dims[l + 1]));
    W.push(Array.from({ length: dims[l] }, () => Array.from({ length: dims[l + 1] }, () => rand() * s)));
    Bs.push(Array.from({ length: dims[l + 1] }, () => rand() * 0.1));
  }
  const colSum = (w: number[][]) => w[0].map((_, j) => w.reduce((acc, row) => acc + row[j], 0));
  const cs2 = colSum(W[1]);
  const cs3 = colSum(W[2]);
  const w = [
    W[0].map((r) => r.map((v) => 2 * v)),
    W[1].map((r) => r.map((v) => 4 * v)),
    W[2].map((r) => r.map((v) => 2 * v)),
  ];
  const b = [Bs[0].map((v) => 2 * v), Bs[1].map((v, j) => 2 * (v - cs2[j])), Bs[2].map((v, j) => v - cs3[j])];
  // libs/neural's field with the same weights: params() is [w, b] of each of the three layers.
  const nvf = new NeuralVectorField(new ParamStore(new Rng(1)).scope('f'), {
    dim: D,
    hidden: [H, H],
    activation: 'sigmoid',
  });
  const params = nvf.params();
  for (let l = 0; l < 3; l++) {
    params[2 * l].assign(tf.tensor2d(w[l]));
    params[2 * l + 1].assign(tf.tensor1d(b[l]));
  }
  const f: TensorField = (_t, y) =>
    tf.tidy(() => {
      const h1 = tf.sigmoid(tf.add(tf.matMul(y, params[0]), params[1]));
      const h2 = tf.sigmoid(tf.add(tf.matMul(h1, params[2]), params[3]));
      return tf.add(tf.matMul(h2, params[4]), params[5]);
    });
  return { f, params, nvf, vjp: nvf.adjointVjp(params) };
}

type Mode = 'adjoint' | 'seminorm' | 'adjoint+vjp' | 'seminorm+vjp' | 'seminorm+apply' | 'backprop';
const MODES: Mode[] = ['adjoint', 'seminorm', 'adjoint+vjp', 'seminorm+vjp', 'seminorm+apply', 'backprop'];

interface Row {
  mode: string;
  B: number;
  T: number;
  fwdMs: number;
  bwdMs: number;
  /** Process CPU time (user + system) of the forward and backward parts: steadier than wall time on a shared machine. */
  fwdCpu: number;
  bwdCpu: number;
  fwdNfe: number;
  bwdNfe: number;
  peakBytes: number;
}

/** `mode`, or `mode@untuned`: the same with the WASM backend's own kernels (before `tuneWasmKernels`). */
function run(spec: string, B: number, T: number, field: ReturnType<typeof makeField>): Row {
  const [mode, variant] = spec.split('@') as [Mode, string | undefined];
  if (!MODES.includes(mode) || (variant !== undefined && variant !== 'untuned'))
    throw new Error(`Unknown mode '${spec}'; expected one of ${MODES.join(', ')}, optionally with '@untuned'`);
  tuneWasmKernels(variant !== 'untuned');
  try {
    return runMode(mode, B, T, field, spec);
  } finally {
    tuneWasmKernels(true);
  }
}

function runMode(mode: Mode, B: number, T: number, field: ReturnType<typeof makeField>, label: string): Row {
  const r = uniform(SEED + B);
  const y0 = tf.tensor2d(
    Float32Array.from({ length: B * D }, () => r()),
    [B, D],
  );
  const start = tf.memory().numBytes;
  let peak = start;
  let fwdNfe = 0;
  let bwdNfe = 0;
  const f: TensorField = (t, y) => {
    peak = Math.max(peak, tf.memory().numBytes);
    if (mode === 'backprop') fwdNfe++;
    return mode === 'seminorm+apply' ? field.nvf.apply(t, y) : field.f(t, y);
  };
  let tFwd = 0;
  let cFwd = 0;
  let stats: ReturnType<typeof odeintAdjoint>['stats'] | undefined;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { value, grads } = tf.engine().gradients(() => {
    let ys: tf.Tensor;
    if (mode === 'backprop') ys = odeint(f, y0, [0, T], { rtol: RTOL, atol: ATOL }).ys;
    else {
      const s = odeintAdjoint(f, y0, [0, T], field.params, {
        rtol: RTOL,
        atol: ATOL,
        adjointNorm: mode.startsWith('seminorm') ? 'seminorm' : 'mixed',
        ...(mode.endsWith('+vjp') ? { vjp: field.vjp } : {}),
      });
      ys = s.ys;
      stats = s.stats;
    }
    const loss = tf.sum(tf.square(ys));
    loss.dataSync();
    tFwd = performance.now();
    cFwd = cpuMs(process.cpuUsage(c0));
    peak = Math.max(peak, tf.memory().numBytes);
    return loss;
  }, [y0, ...field.params]);
  grads.forEach((g) => g.dataSync());
  const tEnd = performance.now();
  const cEnd = cpuMs(process.cpuUsage(c0));
  [value, y0, ...grads].forEach((x) => x.dispose());
  if (stats) {
    fwdNfe = stats.forward.nfe;
    bwdNfe = stats.backward.nfe;
  }
  return {
    mode: label,
    B,
    T,
    fwdMs: tFwd - t0,
    bwdMs: tEnd - tFwd,
    fwdCpu: cFwd,
    bwdCpu: cEnd - cFwd,
    fwdNfe,
    bwdNfe,
    peakBytes: peak - start,
  };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e3;
const mb = (b: number) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1);

async function main(): Promise<void> {
  const backend = await initTensorBackend({
    backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm',
    log: () => undefined,
  });
  console.log(`bench:adjoint — backend ${backend}, dopri5 rtol ${RTOL} atol ${ATOL}, MLP d=${D} hidden ${H}`);
  const field = makeField();
  run('adjoint', 64, 1, field); // warm-up (kernels, WASM)
  console.log(
    'mode              |    B |   T | fwd ms | bwd ms | bwd/fwd | fwd cpu | bwd cpu | bwd/fwd cpu | fwd NFE | bwd NFE | bwd/fwd NFE | peak MB',
  );
  const rows: Row[] = [];
  const started = performance.now();
  const modes = process.env.BENCH_ADJOINT_MODES ? process.env.BENCH_ADJOINT_MODES.split(',') : MODES;
  const sizes = process.env.BENCH_ADJOINT_B ? process.env.BENCH_ADJOINT_B.split(',').map(Number) : [256, 1024];
  const horizons = process.env.BENCH_ADJOINT_T ? process.env.BENCH_ADJOINT_T.split(',').map(Number) : [1, 10, 100];
  const repeats = Math.max(1, Number(process.env.BENCH_ADJOINT_REPEAT ?? 1));
  for (let rep = 0; rep < repeats; rep++)
    for (const B of sizes)
      for (const T of horizons)
        for (const mode of modes) {
          if (mode.startsWith('backprop') && B === 1024 && T === 100) {
            if (rep === 0)
              console.log(
                `${mode.padEnd(17)} | 1024 | 100 | skipped (tape of every stage of every step: ~0.5 GB, minutes here)`,
              );
            continue;
          }
          const row = run(mode, B, T, field);
          rows.push(row);
          const nfeRatio = row.bwdNfe > 0 ? (row.bwdNfe / row.fwdNfe).toFixed(2) : '-';
          console.log(
            [
              mode.padEnd(17),
              String(B).padStart(4),
              String(T).padStart(3),
              row.fwdMs.toFixed(0).padStart(6),
              row.bwdMs.toFixed(0).padStart(6),
              (row.bwdMs / row.fwdMs).toFixed(1).padStart(7),
              row.fwdCpu.toFixed(0).padStart(7),
              row.bwdCpu.toFixed(0).padStart(7),
              (row.bwdCpu / row.fwdCpu).toFixed(1).padStart(11),
              String(row.fwdNfe).padStart(7),
              String(row.bwdNfe || '-').padStart(7),
              nfeRatio.padStart(11),
              mb(row.peakBytes).padStart(7),
            ].join(' | '),
          );
        }
  console.log(`\ntotal ${((performance.now() - started) / 1e3).toFixed(0)} s`);
  const B = sizes[sizes.length - 1];
  console.log(`\nTargets (B = ${B}; medians over ${repeats} run(s)):`);
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  for (const mode of modes.filter((m) => !m.startsWith('backprop'))) {
    const at = (T: number) => rows.filter((r) => r.mode === mode && r.B === B && r.T === T);
    const tMax = horizons[horizons.length - 1];
    const last = at(tMax);
    if (last.length === 0) continue;
    const parts = [
      `backward/forward NFE at T=${tMax} = ${(last[0].bwdNfe / last[0].fwdNfe).toFixed(2)}x (target ≤ 2.7 with seminorm; torchdiffeq 2.74 / 2.54)`,
      `backward/forward time = ${median(last.map((r) => r.bwdMs / r.fwdMs)).toFixed(1)}x wall, ` +
        `${median(last.map((r) => r.bwdCpu / r.fwdCpu)).toFixed(1)}x CPU (target ≤ 6; torchdiffeq 6.8)`,
    ];
    if (horizons.includes(1) && tMax !== 1)
      parts.unshift(
        `peak memory T=${tMax} / T=1 = ${(last[0].peakBytes / at(1)[0].peakBytes).toFixed(2)}x (target ≤ 1.2)`,
      );
    console.log(`  ${mode}: ${parts.join('; ')}`);
  }
  field.params.forEach((p) => p.dispose());
}

void main();
