import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint, odeintAdjoint, tuneWasmKernels, wasmKernelsTuned } from '@continuum/ode';
import { uniformArray } from '../adjoint/test-fields';
import { fusedFlatConcat, fusedLinComb } from './lin-comb';
import { simdModuleValid } from './wasm-simd';

beforeAll(async () => {
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
});
afterAll(() => {
  tuneWasmKernels(true);
});

const rand = (shape: number[], seed: number) =>
  tf.tensor(
    uniformArray(
      shape.reduce((n, k) => n * k, 1),
      seed,
    ),
    shape,
  );

/** Runs `fn` with the WASM backend's own kernels and with the tuned ones; returns both results' values. */
function both(fn: () => tf.Tensor | tf.Tensor[]): { own: Float32Array[]; tuned: Float32Array[] } {
  const values = (on: boolean) => {
    tuneWasmKernels(on);
    const r = fn();
    const list = Array.isArray(r) ? r : [r];
    const out = list.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    list.forEach((t) => t.dispose());
    return out;
  };
  return { own: values(false), tuned: values(true) };
}

/** Largest |x − y| over all entries, relative to the largest |y|. */
function relDiff(xs: Float32Array[], ys: Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  xs.forEach((x, i) =>
    x.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(v - ys[i][j]));
      scale = Math.max(scale, Math.abs(ys[i][j]));
    }),
  );
  return diff / scale;
}

describe('tuned WASM kernels', () => {
  it('are installed by initTensorBackend on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmKernelsTuned()).toBe(true);
  });

  it('transpose exactly as the original kernel, through the two-step path and around it', () => {
    const cases: [number[], number[]][] = [
      [
        [1024, 64],
        [1, 0],
      ], // two-step
      [
        [256, 16],
        [1, 0],
      ], // two-step (smallest eligible)
      [
        [1, 512, 32],
        [0, 2, 1],
      ], // two-step after dropping the size-1 axis
      [
        [512, 1, 64],
        [2, 1, 0],
      ], // idem, size-1 axis in the middle
      [
        [1000, 64],
        [1, 0],
      ], // not a multiple of 32: direct
      [
        [64, 1024],
        [1, 0],
      ], // short rows: direct
      [
        [8, 32, 64],
        [0, 2, 1],
      ], // batched: direct
      [
        [32, 64, 4],
        [2, 0, 1],
      ],
    ];
    cases.forEach(([shape, perm], i) => {
      const x = rand(shape, 10 + i);
      const ref = tf.tidy(() => {
        tuneWasmKernels(false);
        return tf.transpose(x, perm);
      });
      const { own, tuned } = both(() => tf.transpose(x, perm));
      expect(relDiff(tuned, own)).toBe(0);
      tuneWasmKernels(true);
      expect(tf.transpose(x, perm).shape).toEqual(ref.shape);
      // Independent of both kernels: entry (i, j) of a 2-D transpose is x[j, i].
      if (shape.length === 2) {
        const xv = x.dataSync();
        const tv = tuned[0];
        const [R, C] = shape;
        for (let k = 0; k < 50; k++) {
          const r = (k * 37) % R;
          const c = (k * 11) % C;
          expect(tv[c * R + r]).toBe(xv[r * C + c]);
        }
      }
      tf.dispose([x, ref]);
    });
  });

  it('sum over leading axes, with and without keepDims, as the original kernel', () => {
    const x = rand([1024, 64], 3);
    const y = rand([4, 256, 32], 4);
    const w = rand([100, 6], 9); // trailing size not a multiple of 4: the transpose path
    for (const [t, axis] of [
      [x, 0],
      [w, 0],
      [x, 1],
      [y, [0, 1]],
      [y, 1],
      [y, [0, 2]],
    ] as [tf.Tensor, number | number[]][])
      for (const keepDims of [false, true]) {
        const { own, tuned } = both(() => tf.sum(t, axis, keepDims));
        // Same kernel, same order of the reduced entries: identical.
        expect(relDiff(tuned, own)).toBe(0);
        expect(tf.tidy(() => tf.sum(t, axis, keepDims).shape)).toEqual(
          tf.tidy(() => {
            tuneWasmKernels(false);
            const s = tf.sum(t, axis, keepDims).shape;
            tuneWasmKernels(true);
            return s;
          }),
        );
      }
    tf.dispose([x, y, w]);
  });

  it('multiply transposed operands as the original kernel (float32 round-off), plain and fused', () => {
    const a = rand([1024, 64], 5);
    const b = rand([64, 48], 6);
    const aT = tf.transpose(a);
    const bT = tf.transpose(b);
    const dy = rand([1024, 48], 7);
    const bias = rand([48], 8);
    const products: [string, () => tf.Tensor][] = [
      ['aᵀ·dy', () => tf.matMul(a, dy, true, false)],
      ['narrow aᵀ·dy, computed as (dyᵀ·a)ᵀ', () => tf.matMul(tf.slice(a, [0, 0], [1024, 16]), dy, true, false)],
      ['dy·bᵀ', () => tf.matMul(dy, b, false, true)],
      ['(aᵀ)ᵀ·(bᵀ)ᵀ', () => tf.matMul(aT, bT, true, true)],
      ['rank 3, batch 1', () => tf.matMul(tf.reshape(a, [1, 1024, 64]), tf.reshape(dy, [1, 1024, 48]), true, false)],
      ['batched (untouched)', () => tf.matMul(tf.reshape(a, [4, 256, 64]), tf.reshape(dy, [4, 256, 48]), true, false)],
      ['fused, no bias', () => tf.fused.matMul({ a: aT, b: bT, transposeA: true, transposeB: true })],
    ];
    for (const [name, fn] of products) {
      const { own, tuned } = both(() => tf.tidy(fn));
      // Inner dimensions up to 1024, entries in [-1, 1]: float32 sums in another order differ by ~1e-7 relative.
      expect([name, relDiff(tuned, own) < 1e-5]).toEqual([name, true]);
    }
    // With a bias and an activation the WASM backend's own fused kernel ignores both when an operand is
    // transposed (4.22: errors of order 1 here), so compare with the unfused composition instead.
    for (const [ta, tb] of [
      [true, true],
      [true, false],
      [false, true],
    ]) {
      const fused = tf.fused.matMul({
        a: ta ? aT : a,
        b: tb ? bT : b,
        transposeA: ta,
        transposeB: tb,
        bias,
        activation: 'relu',
      });
      const plain = tf.tidy(() => tf.relu(tf.add(tf.matMul(a, b), bias)));
      expect(relDiff([fused.dataSync() as Float32Array], [plain.dataSync() as Float32Array])).toBeLessThan(1e-5);
      tf.dispose([fused, plain]);
    }
    // Against a float64 reference, not only against the other kernel: (aᵀ·dy)[i, j] = Σ_b a[b, i] dy[b, j]
    // (a with 64 columns: direct; with 16 < 48 columns: reordered).
    const dv = dy.dataSync();
    for (const cols of [64, 16]) {
      const x = tf.slice(a, [0, 0], [1024, cols]);
      const got = tf.matMul(x, dy, true, false);
      expect(got.shape).toEqual([cols, 48]);
      const xv = x.dataSync();
      const gv = got.dataSync();
      for (const [i, j] of [
        [0, 0],
        [cols - 1, 47],
        [7, 5],
      ]) {
        let s = 0;
        for (let k = 0; k < 1024; k++) s += xv[k * cols + i] * dv[k * 48 + j];
        expect(Math.abs(gv[i * 48 + j] - s)).toBeLessThan(1e-4);
      }
      tf.dispose([x, got]);
    }
    tf.dispose([a, b, aT, bT, dy, bias]);
  });

  it('SIMD products Aᵀ·B and A·Bᵀ: the original kernel and a float64 reference, in and out of the tiled shapes', () => {
    expect(simdModuleValid()).toBe(true);
    // [K, M]ᵀ·[K, N] (tiled when M % 4 = 0 and N % 8 = 0, else the transpose + XNNPACK path) and
    // [M, K]·[N, K]ᵀ; K = 1 and K = 1024; M, N off the tile sizes to check the fallback.
    const cases: [number, number, number][] = [
      [1024, 64, 64],
      [1024, 16, 64],
      [1024, 64, 16],
      [1, 8, 8],
      [33, 4, 8],
      [1024, 10, 48],
      [1024, 64, 20],
    ];
    for (const [K, M, N] of cases) {
      const a = rand([K, M], 41 + K + M);
      const b = rand([K, N], 42 + K + N);
      const aT = tf.transpose(a);
      const bT = tf.transpose(b);
      for (const [name, fn] of [
        ['aᵀ·b', () => tf.matMul(a, b, true, false)],
        ['aᵀ·(bᵀ)ᵀ', () => tf.matMul(aT, bT, false, true)],
      ] as [string, () => tf.Tensor][]) {
        const { own, tuned } = both(() => tf.tidy(fn));
        expect([K, M, N, name, relDiff(tuned, own) < 1e-5]).toEqual([K, M, N, name, true]);
        // float64: |Σ_k a[k,i] b[k,j] − got| within float32 round-off of K terms in [-1, 1].
        const av = a.dataSync();
        const bv = b.dataSync();
        let worst = 0;
        tuned[0].forEach((v, idx) => {
          const i = Math.floor(idx / N);
          const j = idx % N;
          let s = 0;
          for (let k = 0; k < K; k++) s += av[k * M + i] * bv[k * N + j];
          worst = Math.max(worst, Math.abs(v - s));
        });
        expect([K, M, N, name, worst < 1e-6 * K + 1e-6]).toEqual([K, M, N, name, true]);
      }
      tf.dispose([a, b, aT, bT]);
    }
  });

  it('clone (Identity) shares the data by reference count: same values, no copy, no leak', () => {
    const x = rand([1024, 64], 51);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers); // shared, not copied
    x.dispose();
    const v = y.dataSync();
    expect(v[0]).toBe(uniformArray(1024 * 64, 51)[0]);
    expect(v[65535]).toBe(uniformArray(1024 * 64, 51)[65535]);
    // The data lives until its last holder is disposed.
    const z = tf.mul(y, 2);
    y.dispose();
    expect(z.dataSync()[65535]).toBe(2 * v[65535]);
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
  });

  it('fused linear combination: the values and gradients of mul + addN, bit for bit, any length', () => {
    for (const n of [1024 * 16, 6288, 7, 1]) {
      const xs = [0, 1, 2, 3, 4].map((k) => rand([n], 61 + k));
      const cs = [1, 0.1 / 3, -0.7, 2.5e-3, 0.3];
      const fused = () => fusedLinComb(xs, cs) as tf.Tensor;
      const composed = () => tf.addN(xs.map((x, i) => (cs[i] === 1 ? x : tf.mul(x, cs[i]))));
      expect(relDiff([tf.tidy(fused).dataSync() as Float32Array], [tf.tidy(composed).dataSync() as Float32Array])).toBe(
        0,
      );
      // Gradients (backprop through a solve records the fused op): d/dx_i = c_i·dy.
      const w = rand([n], 71);
      const gf = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(fusedLinComb(x, cs) as tf.Tensor, w)))(xs);
      gf.forEach((g, i) =>
        expect(relDiff([g.dataSync() as Float32Array], [tf.mul(w, cs[i]).dataSync() as Float32Array])).toBe(0),
      );
      tf.dispose([...xs, w, ...gf]);
    }
    // Off the tuned backend there is no fused kernel: callers compose.
    tuneWasmKernels(false);
    const a = rand([8], 1);
    expect(fusedLinComb([a, a], [1, 2])).toBeNull();
    tuneWasmKernels(true);
    a.dispose();
  });

  it('fused flattening concatenation: the values and gradients of concat(reshape(x, [-1])…)', () => {
    const xs = [rand([16, 64], 91), rand([64], 92), rand([3, 5, 7], 93), rand([1], 94)];
    const fused = tf.tidy(() => fusedFlatConcat(xs) as tf.Tensor);
    const composed = tf.tidy(() => tf.concat(xs.map((x) => tf.reshape(x, [-1]))));
    expect(fused.shape).toEqual([16 * 64 + 64 + 105 + 1]);
    expect(relDiff([fused.dataSync() as Float32Array], [composed.dataSync() as Float32Array])).toBe(0);
    const w = rand([fused.size], 95);
    const gf = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(fusedFlatConcat(x) as tf.Tensor, w)))(xs);
    const gc = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(x.map((v) => tf.reshape(v, [-1]))), w)))(xs);
    gf.forEach((g, i) => {
      expect(g.shape).toEqual(xs[i].shape);
      expect(relDiff([g.dataSync() as Float32Array], [gc[i].dataSync() as Float32Array])).toBe(0);
    });
    tuneWasmKernels(false);
    expect(fusedFlatConcat(xs)).toBeNull();
    tuneWasmKernels(true);
    tf.dispose([...xs, fused, composed, w, ...gf, ...gc]);
  });

  it('gradient of sigmoid: the original composition bit for bit, and σ(1 − σ) in float64', () => {
    for (const shape of [[1024, 64], [3, 5], [7]]) {
      const size = shape.reduce((n, k) => n * k, 1);
      const x = tf.mul(rand(shape, 81), 4);
      const w = rand(shape, 82);
      const { own, tuned } = both(() => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(z), w)))(x));
      expect(relDiff(tuned, own)).toBe(0);
      const xv = x.dataSync();
      const wv = w.dataSync();
      let worst = 0;
      for (let i = 0; i < size; i++) {
        const s = 1 / (1 + Math.exp(-xv[i]));
        worst = Math.max(worst, Math.abs(tuned[0][i] - wv[i] * s * (1 - s)));
      }
      expect(worst).toBeLessThan(1e-6);
      tf.dispose([x, w]);
    }
  });

  it('give the gradients of an MLP that the original kernels and central differences give', () => {
    const W1 = rand([16, 64], 21);
    const b1 = rand([64], 22);
    const W2 = rand([64, 16], 23);
    const x = rand([512, 16], 24);
    const loss = (w1: tf.Tensor, bb: tf.Tensor, w2: tf.Tensor, xx: tf.Tensor) =>
      tf.sum(tf.sin(tf.matMul(tf.sigmoid(tf.add(tf.matMul(xx, w1), bb)), w2)));
    const grads = () => tf.grads(loss)([W1, b1, W2, x]);
    const { own, tuned } = both(grads);
    expect(relDiff(tuned, own)).toBeLessThan(1e-5);
    // Central differences in float32 on a few entries of W1 (loss ~ 1e2: step 1e-2 keeps the
    // truncation error ~1e-4·|f'''| and the round-off ~1e-5·|L|/h small against |g| ~ 1e0).
    const w = W1.dataSync();
    for (const k of [0, 77, 1023]) {
      const at = (d: number) =>
        tf.tidy(() => {
          const v = Float32Array.from(w);
          v[k] += d;
          return loss(tf.tensor(v, [16, 64]), b1, W2, x).dataSync()[0];
        });
      const h = 1e-2;
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(tuned[0][k] - fd)).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
    tf.dispose([W1, b1, W2, x]);
  });

  it('give odeintAdjoint the gradient of backprop through odeint (MLP field, B = 256)', () => {
    const params = [rand([8, 32], 31), rand([32], 32), rand([32, 8], 33), rand([8], 34)].map((t) => tf.variable(t));
    const f = (_t: tf.Tensor, y: tf.Tensor) =>
      tf.tidy(() => tf.add(tf.matMul(tf.sigmoid(tf.add(tf.matMul(y, params[0]), params[1])), params[2]), params[3]));
    const y0 = rand([256, 8], 35);
    const opts = { rtol: 1e-6, atol: 1e-7 };
    const before = tf.memory().numTensors;
    const adj = tf
      .engine()
      .gradients(() => tf.sum(tf.square(odeintAdjoint(f, y0, [0, 0.5, 1], params, opts).ys)), [y0, ...params]);
    const bp = tf.engine().gradients(() => tf.sum(tf.square(odeint(f, y0, [0, 0.5, 1], opts).ys)), [y0, ...params]);
    adj.grads.forEach((g, i) => {
      expect(relDiff([g.dataSync() as Float32Array], [bp.grads[i].dataSync() as Float32Array])).toBeLessThan(1e-3);
    });
    tf.dispose([adj.value, bp.value, ...adj.grads, ...bp.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y0, ...params]);
  });
});
