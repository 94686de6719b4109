/**
 * `npm run bench:ode` — batched dopri5 on an MLP vector field (issue 3).
 *
 * Times odeint(dopri5, rtol 1e-5, atol 1e-6, t ∈ [0, 1]) of f(y) = W3 tanh(W2 tanh(W1 y + b1) + b2) + b3
 * (d = 16, hidden 64, fixed seed) for B = 1, 64, 1024, 8192 on every TensorFlow.js backend that loads,
 * then the float64 backend against the tensor backend at B = 1 on a 3-dimensional problem, then (where
 * `/usr/bin/python3 -c "import torch"` works) the same solve in PyTorch, with ratios.
 *
 * The tensor field uses the WASM-friendly form from docs/MEASUREMENTS: weights stored [in, out] (no
 * transposeB), and tanh(z) = 2σ(2z) − 1 folded into the weights so each layer is a single fused
 * matMul + bias + sigmoid kernel (exactly the same function; checked below).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint } from '@continuum/ode';

const D = 16;
const H = 64;
const SEED = 1234;
const RTOL = 1e-5;
const ATOL = 1e-6;
const BATCHES = [1, 64, 1024, 8192];

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

// Weights [in, out], Glorot-uniform, fixed seed.
const rand = uniform(SEED);
const dims = [D, H, H, D];
const W: number[][][] = [];
const Bs: number[][] = [];
for (let l = 0; l < 3; l++) {
  const s = Math.sqrt(6 / (dims[l] + dims[l + 1]));
  W.push(Array.from({ length: dims[l] }, () => Array.from({ length: dims[l + 1] }, () => rand() * s)));
  Bs.push(Array.from({ length: dims[l + 1] }, () => rand() * 0.1));
}

/** tanh MLP rewritten with sigmoids: tanh(z) = 2σ(2z) − 1, the affine parts folded into the weights. */
function sigmoidForm(): { w: number[][][]; b: number[][] } {
  const colSum = (w: number[][]) => w[0].map((_, j) => w.reduce((acc, row) => acc + row[j], 0));
  const w1 = W[0].map((r) => r.map((v) => 2 * v));
  const b1 = Bs[0].map((v) => 2 * v);
  const cs2 = colSum(W[1]);
  const w2 = W[1].map((r) => r.map((v) => 4 * v));
  const b2 = Bs[1].map((v, j) => 2 * (v - cs2[j]));
  const cs3 = colSum(W[2]);
  const w3 = W[2].map((r) => r.map((v) => 2 * v));
  const b3 = Bs[2].map((v, j) => v - cs3[j]);
  return { w: [w1, w2, w3], b: [b1, b2, b3] };
}

function makeTensorField(): { field: (t: tf.Tensor, y: tf.Tensor) => tf.Tensor; plain: (y: tf.Tensor) => tf.Tensor } {
  const sf = sigmoidForm();
  const w = sf.w.map((m) => tf.keep(tf.tensor2d(m)));
  const b = sf.b.map((v) => tf.keep(tf.tensor1d(v)));
  const w0 = W.map((m) => tf.keep(tf.tensor2d(m)));
  const b0 = Bs.map((v) => tf.keep(tf.tensor1d(v)));
  const field = (_t: tf.Tensor, y: tf.Tensor) => {
    const h1 = tf.fused.matMul({ a: y, b: w[0], bias: b[0], activation: 'sigmoid' });
    const h2 = tf.fused.matMul({ a: h1, b: w[1], bias: b[1], activation: 'sigmoid' });
    return tf.fused.matMul({ a: h2, b: w[2], bias: b[2] });
  };
  const plain = (y: tf.Tensor) =>
    tf.tidy(() =>
      tf.add(
        tf.matMul(tf.tanh(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y, w0[0]), b0[0])), w0[1]), b0[1])), w0[2]),
        b0[2],
      ),
    );
  return { field, plain };
}

function initialStates(B: number): tf.Tensor {
  const r = uniform(SEED + B);
  return tf.tensor2d(
    Float32Array.from({ length: B * D }, () => r()),
    [B, D],
  );
}

function timeMin(fn: () => void, minRepeats: number, budgetMs: number): number {
  fn(); // warm-up
  let best = Infinity;
  const start = performance.now();
  for (let i = 0; i < minRepeats || performance.now() - start < budgetMs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    if (i >= 20) break;
  }
  return best;
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);

interface Row {
  backend: string;
  B: number;
  nfe: number;
  accepted: number;
  ms: number;
}

async function benchBackend(name: string): Promise<Row[]> {
  await initTensorBackend({ backend: name, log: () => undefined });
  const { field, plain } = makeTensorField();
  const check = tf.tidy(() => {
    const y = initialStates(8);
    return tf.max(tf.abs(tf.sub(field(tf.scalar(0), y), plain(y)))).dataSync()[0];
  });
  console.log(`\n[${name}] sigmoid-form field vs plain tanh MLP: max |diff| = ${check.toExponential(1)}`);
  console.log('   B |  NFE | steps |   wall ms | ms/step | state-evals/s');
  const rows: Row[] = [];
  for (const B of BATCHES) {
    if (name === 'cpu' && B > 1024) {
      console.log(`${String(B).padStart(4)} | skipped on the JS cpu backend (~0.2 s per evaluation)`);
      continue;
    }
    const y0 = initialStates(B);
    let nfe = 0;
    let accepted = 0;
    const budget = B >= 8192 ? 0 : 1500;
    const ms = timeMin(
      () => {
        const r = odeint(field, y0, [0, 1], { rtol: RTOL, atol: ATOL });
        nfe = r.stats.nfe;
        accepted = r.stats.accepted;
        r.ys.dispose();
      },
      B >= 8192 ? 2 : 5,
      budget,
    );
    y0.dispose();
    rows.push({ backend: name, B, nfe, accepted, ms });
    console.log(
      `${String(B).padStart(4)} | ${String(nfe).padStart(4)} | ${String(accepted).padStart(5)} | ${fmt(ms).padStart(9)} | ${fmt(ms / accepted, 3).padStart(7)} | ${((B * nfe) / (ms / 1e3)).toExponential(2)}`,
    );
  }
  return rows;
}

function float64VsTensor(): void {
  // y' = y A on R^3 (damped rotation), t ∈ [0, 10]: one matMul per evaluation on the tensor side.
  const A = [
    [-0.1, -1, 0.2],
    [1, -0.1, 0],
    [0, 0.3, -0.5],
  ];
  const opts = { rtol: RTOL, atol: ATOL };
  const f64 = (_t: number, y: Float64Array) => {
    const out = new Float64Array(3);
    for (let j = 0; j < 3; j++) out[j] = y[0] * A[0][j] + y[1] * A[1][j] + y[2] * A[2][j];
    return out;
  };
  const At = tf.keep(tf.tensor2d(A));
  const ften = (_t: tf.Tensor, y: tf.Tensor) => tf.matMul(y, At);
  const y0 = [1, 0.5, -0.3];
  const y0t = tf.tensor2d([y0]);
  let nfe64 = 0;
  let nfeT = 0;
  const ms64 = timeMin(() => (nfe64 = odeint(f64, y0, [0, 10], opts).stats.nfe), 20, 500);
  const msT = timeMin(
    () => {
      const r = odeint(ften, y0t, [0, 10], opts);
      nfeT = r.stats.nfe;
      r.ys.dispose();
    },
    5,
    1000,
  );
  console.log(
    `\n[float64 vs tensor(${tf.getBackend()}), 3-dim linear problem, t ∈ [0,10]] float64 ${fmt(ms64, 3)} ms (NFE ${nfe64}), tensor B=1 ${fmt(msT, 2)} ms (NFE ${nfeT}): float64 is ${fmt(msT / ms64, 1)}x faster (target ≥ 20x)`,
  );
}

function torchBench(): { B: number; nfe: number; accepted: number; ms: number }[] | undefined {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(
      '\n[pytorch] /usr/bin/python3 cannot import torch: PyTorch comparison skipped (apt-get install python3-torch).',
    );
    return undefined;
  }
  const script = path.join(__dirname, 'reference', 'torch_dopri5.py');
  const input = JSON.stringify({
    weights: W,
    biases: Bs,
    batches: BATCHES,
    repeats: 3,
    rtol: RTOL,
    atol: ATOL,
    seed: SEED,
  });
  const r = spawnSync('/usr/bin/python3', [script], {
    input,
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    console.log(`\n[pytorch] failed: ${r.stderr.slice(-500)}`);
    return undefined;
  }
  const res = JSON.parse(r.stdout) as {
    torch: string;
    threads: number;
    results: { B: number; nfe: number; accepted: number; ms: number }[];
  };
  console.log(
    `\n[pytorch ${res.torch}, ${res.threads} thread, OPENBLAS_CORETYPE=SkylakeX] minimal dopri5, same algorithm`,
  );
  console.log('   B |  NFE | steps |   wall ms | ms/step | state-evals/s');
  for (const row of res.results)
    console.log(
      `${String(row.B).padStart(4)} | ${String(row.nfe).padStart(4)} | ${String(row.accepted).padStart(5)} | ${fmt(row.ms).padStart(9)} | ${fmt(row.ms / row.accepted, 3).padStart(7)} | ${((row.B * row.nfe) / (row.ms / 1e3)).toExponential(2)}`,
    );
  return res.results;
}

async function main(): Promise<void> {
  console.log(`@continuum/ode bench: dopri5, MLP d=${D} hidden=${H} tanh, rtol ${RTOL}, atol ${ATOL}, t ∈ [0,1]`);
  const rows: Row[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu']) {
    try {
      rows.push(...(await benchBackend(name)));
    } catch (e) {
      console.log(`\n[${name}] not available: ${(e as Error).message}`);
    }
  }
  await initTensorBackend({ backend: 'wasm', log: () => undefined }).catch(() => undefined);
  float64VsTensor();
  const torch = torchBench();
  if (torch) {
    console.log('\nRatios (throughput = state-evals/s; > 1 means TensorFlow.js is faster):');
    for (const row of rows) {
      const t = torch.find((x) => x.B === row.B);
      if (!t) continue;
      const thr = (row.B * row.nfe) / row.ms / ((t.B * t.nfe) / t.ms);
      console.log(
        `  ${row.backend.padEnd(6)} B=${String(row.B).padEnd(5)} throughput ${fmt(thr)}x torch, wall ${fmt(row.ms / t.ms)}x, NFE ${row.nfe}/${t.nfe}`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
