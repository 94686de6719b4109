import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeintAdjoint } from '@continuum/ode';
import {
  flattenMlp,
  makeMlpField,
  mlpField64,
  relativeError,
  uniformArray,
  unflattenMlp,
  unrolledGrads,
  weightedLoss,
  weightedLoss64,
} from './test-fields';

// The JS 'cpu' backend: deterministic float32 kernels, and fast enough at these sizes.
beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

/** Ten irregular output times on [0, 2] (a loss on 10 output times). */
const TS = [0, 0.13, 0.31, 0.47, 0.72, 0.9, 1.18, 1.42, 1.7, 2];

/**
 * Linear field f(t, y) = θ·y M (row vectors, a batch of 3), M = [[-0.1, 2], [-2, -0.1]]: the exact
 * flow is y(t) = y0 E(t), E(t) = exp(θ M t) = e^{-0.1 θ t} [[cos 2θt, sin 2θt], [-sin 2θt, cos 2θt]],
 * so every gradient of L = Σ_k Σ w_k ⊙ y(t_k) has a closed form:
 *   dL/dy0_b = Σ_k w_kb E(t_k)ᵀ,   dL/dθ = Σ_k Σ_b w_kb · (y0_b E(t_k) M t_k),
 *   dL/dt_k = w_k · θ y(t_k) M (k ≥ 1),   dL/dt_0 = −Σ_{k≥1} dL/dt_k (autonomous field).
 */
describe('linear system with an analytic gradient', () => {
  const M = [
    [-0.1, 2],
    [-2, -0.1],
  ];
  const THETA = 0.8;
  const Y0 = [
    [1, 0],
    [0.3, -0.7],
    [-0.5, 0.4],
  ];
  const W = Array.from(uniformArray(TS.length * 3 * 2, 5));
  const w = (k: number, b: number) => [W[(k * 3 + b) * 2], W[(k * 3 + b) * 2 + 1]];
  const E = (t: number) => {
    const s = Math.exp(-0.1 * THETA * t);
    const c = Math.cos(2 * THETA * t);
    const n = Math.sin(2 * THETA * t);
    return [
      [s * c, s * n],
      [-s * n, s * c],
    ];
  };
  const rowTimes = (y: number[], A: number[][]) => [y[0] * A[0][0] + y[1] * A[1][0], y[0] * A[0][1] + y[1] * A[1][1]];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];

  const exact = () => {
    const gy0 = Y0.map((_y, b) => {
      const g = [0, 0];
      TS.forEach((t, k) => {
        const Et = E(t);
        const wk = w(k, b);
        g[0] += Et[0][0] * wk[0] + Et[0][1] * wk[1]; // (E wᵀ)ᵀ = w Eᵀ
        g[1] += Et[1][0] * wk[0] + Et[1][1] * wk[1];
      });
      return g;
    });
    let gTheta = 0;
    const gTs = TS.map(() => 0);
    TS.forEach((t, k) => {
      Y0.forEach((y0, b) => {
        const yt = rowTimes(y0, E(t));
        gTheta += dot(w(k, b), rowTimes(yt, M)) * t;
        if (k > 0) gTs[k] += THETA * dot(w(k, b), rowTimes(yt, M));
      });
    });
    gTs[0] = -gTs.slice(1).reduce((s, v) => s + v, 0);
    return { gy0: gy0.flat(), gTheta, gTs };
  };

  const run = (options: Parameters<typeof odeintAdjoint>[4]) => {
    const theta = tf.variable(tf.scalar(THETA));
    const m = tf.tensor2d(M);
    const y0 = tf.tensor2d(Y0);
    const ts = tf.tensor1d(TS);
    const weights = tf.tensor3d(W, [TS.length, 3, 2]);
    const f = (_t: tf.Tensor, y: tf.Tensor) => tf.mul(theta, tf.matMul(y, m));
    const { value, grads } = tf
      .engine()
      .gradients(
        () => weightedLoss(odeintAdjoint(f, y0, ts, [theta], { ...options, gradTimes: true }).ys, weights),
        [y0, theta, ts],
      );
    const out = {
      loss: value.dataSync()[0],
      gy0: grads[0].dataSync(),
      gTheta: grads[1].dataSync()[0],
      gTs: grads[2].dataSync(),
    };
    [theta, m, y0, ts, weights, value, ...grads].forEach((x) => x.dispose());
    return out;
  };

  it.each(['backsolve', 'checkpoint'] as const)(
    '%s: y0, θ and ts gradients match the closed form (relative < 1e-4)',
    (adjoint) => {
      const ref = exact();
      // rtol 1e-7 / atol 1e-9 keeps the solver error near float32 resolution (eps 6e-8 relative);
      // what remains is float32 round-off accumulated over ~50 steps, of order 1e-6 relative.
      const g = run({ adjoint, rtol: 1e-7, atol: 1e-9 });
      expect(relativeError(g.gy0, ref.gy0)).toBeLessThan(1e-4);
      expect(Math.abs(g.gTheta - ref.gTheta) / Math.abs(ref.gTheta)).toBeLessThan(1e-4);
      expect(relativeError(g.gTs, ref.gTs)).toBeLessThan(1e-4);
    },
  );

  it('agrees with float64 central differences of the exact loss, and with backprop through the unrolled solve', () => {
    // Central differences in float64 through the Float64 backend (rtol 1e-10): truncation O(ε²)
    // with ε = 1e-4 is ~1e-8 relative and solver noise at most ~1e-10/ε = 1e-6, far below the 1e-4
    // asked of the float32 adjoint.
    const loss64 = (theta: number, y0s: number[][], ts: number[]) =>
      y0s.reduce(
        (acc, y0, b) =>
          acc +
          weightedLoss64(
            (_t, y) => rowTimes(Array.from(y), M).map((v) => theta * v),
            y0,
            ts,
            (k) => w(k, b),
          ),
        0,
      );
    const eps = 1e-4;
    const fdTheta = (loss64(THETA + eps, Y0, TS) - loss64(THETA - eps, Y0, TS)) / (2 * eps);
    const fdTs = TS.map((_t, k) => {
      const up = TS.slice();
      const dn = TS.slice();
      up[k] += eps;
      dn[k] -= eps;
      return (loss64(THETA, Y0, up) - loss64(THETA, Y0, dn)) / (2 * eps);
    });
    const g = run({ rtol: 1e-7, atol: 1e-9 });
    expect(Math.abs(g.gTheta - fdTheta) / Math.abs(fdTheta)).toBeLessThan(1e-4);
    expect(relativeError(g.gTs, fdTs)).toBeLessThan(1e-4);

    // Backprop through the unrolled solve at rtol 1e-6: both are within ~10·rtol of the exact
    // gradient, so they agree to well under 1e-3.
    const theta = tf.variable(tf.scalar(THETA));
    const m = tf.tensor2d(M);
    const y0 = tf.tensor2d(Y0);
    const weights = tf.tensor3d(W, [TS.length, 3, 2]);
    const f = (_t: tf.Tensor, y: tf.Tensor) => tf.mul(theta, tf.matMul(y, m));
    const un = unrolledGrads(f, y0, TS, [theta], (ys) => weightedLoss(ys, weights), { rtol: 1e-6, atol: 1e-8 });
    const adj = run({ rtol: 1e-6, atol: 1e-8 });
    expect(relativeError(adj.gy0, un.grads[0].dataSync())).toBeLessThan(1e-3);
    expect(Math.abs(adj.gTheta - un.grads[1].dataSync()[0]) / Math.abs(adj.gTheta)).toBeLessThan(1e-3);
    [theta, m, y0, weights, ...un.grads].forEach((x) => x.dispose());
  });
});

/**
 * MLP field d = 8, hidden 32, tanh, batch 16, loss on the 10 output times. Finite differences run
 * in float64 through the Float64 backend on the same (analytic) field; directional derivatives along
 * random directions check all 1,608 parameters at once.
 */
describe('MLP field (d=8, hidden 32, batch 16), loss on 10 output times', () => {
  const D = 8;
  const H = 32;
  const B = 16;
  const y0Data = uniformArray(B * D, 21);
  const wData = uniformArray(TS.length * B * D, 22);
  const wOf = (k: number, b: number) => wData.subarray((k * B + b) * D, (k * B + b + 1) * D);

  const adjointGrads = (options: Parameters<typeof odeintAdjoint>[4]) => {
    const field = makeMlpField(D, H, 3);
    const y0 = tf.tensor2d(y0Data, [B, D]);
    const ts = tf.tensor1d(TS);
    const weights = tf.tensor3d(wData, [TS.length, B, D]);
    const before = tf.memory().numTensors;
    let stats: ReturnType<typeof odeintAdjoint>['stats'] | undefined;
    const { value, grads } = tf.engine().gradients(() => {
      const r = odeintAdjoint(field.f, y0, ts, field.params, { ...options, gradTimes: true });
      stats = r.stats;
      return weightedLoss(r.ys, weights);
    }, [y0, ...field.params, ts]);
    const out = {
      loss: value.dataSync()[0],
      gy0: grads[0].dataSync(),
      gParams: grads.slice(1, 7).map((g) => g.dataSync()),
      gTs: grads[7].dataSync(),
      stats: stats!,
    };
    [value, ...grads].forEach((x) => x.dispose());
    const leaked = tf.memory().numTensors - before;
    [y0, ts, weights].forEach((x) => x.dispose());
    field.dispose();
    return { ...out, leaked };
  };

  const mlp = makeMlpField(D, H, 3).mlp; // float64 copy of the same weights (variables disposed below)
  const theta0 = flattenMlp(mlp);
  const lossAt = (theta: Float64Array, y0: Float32Array | Float64Array, ts: number[]) => {
    const m = unflattenMlp(mlp, theta);
    let acc = 0;
    for (let b = 0; b < B; b++)
      acc += weightedLoss64(mlpField64(m), y0.subarray(b * D, (b + 1) * D), ts, (k) => wOf(k, b));
    return acc;
  };
  afterAll(() => tf.disposeVariables());

  it('agrees with float64 central differences for y0, params (3 random directions) and ts (relative < 1e-4)', () => {
    const g = adjointGrads({ rtol: 1e-7, atol: 1e-9 });
    expect(g.leaked).toBe(0);
    // ε = 1e-4: truncation O(ε²) ≈ 1e-8 relative; the float64 solves (rtol 1e-10) add at most
    // ~1e-10/ε = 1e-6 relative, since nearby solves take nearly the same steps.
    const eps = 1e-4;
    // y0: per-sample solves are independent, so every entry is checked.
    const y064 = Float64Array.from(y0Data);
    const fdY0 = new Float64Array(B * D);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < D; i++) {
        const up = y064.slice(b * D, (b + 1) * D);
        const dn = up.slice();
        up[i] += eps;
        dn[i] -= eps;
        fdY0[b * D + i] =
          (weightedLoss64(mlpField64(mlp), up, TS, (k) => wOf(k, b)) -
            weightedLoss64(mlpField64(mlp), dn, TS, (k) => wOf(k, b))) /
          (2 * eps);
      }
    expect(relativeError(g.gy0, fdY0)).toBeLessThan(1e-4);
    // Parameters: directional derivatives ⟨∇L, v⟩ along random v.
    const flatG = Float64Array.from(g.gParams.flatMap((p) => Array.from(p)));
    for (let s = 0; s < 3; s++) {
      const v = Float64Array.from(uniformArray(theta0.length, 100 + s));
      const up = theta0.map((x, i) => x + eps * v[i]);
      const dn = theta0.map((x, i) => x - eps * v[i]);
      const fd = (lossAt(up, y064, TS) - lossAt(dn, y064, TS)) / (2 * eps);
      const ad = flatG.reduce((acc, gi, i) => acc + gi * v[i], 0);
      expect(Math.abs(ad - fd) / Math.abs(fd)).toBeLessThan(1e-4);
    }
    // Output times.
    const fdTs = TS.map((_t, k) => {
      const up = TS.slice();
      const dn = TS.slice();
      up[k] += eps;
      dn[k] -= eps;
      return (lossAt(theta0, y064, up) - lossAt(theta0, y064, dn)) / (2 * eps);
    });
    expect(relativeError(g.gTs, fdTs)).toBeLessThan(1e-4);
  });

  it.each(['backsolve', 'checkpoint'] as const)(
    '%s agrees with backprop through the unrolled solve at rtol 1e-6 (relative < 1e-3)',
    (adjoint) => {
      const g = adjointGrads({ adjoint, rtol: 1e-6, atol: 1e-8 });
      const field = makeMlpField(D, H, 3);
      const y0 = tf.tensor2d(y0Data, [B, D]);
      const weights = tf.tensor3d(wData, [TS.length, B, D]);
      const un = unrolledGrads(field.f, y0, TS, field.params, (ys) => weightedLoss(ys, weights), {
        rtol: 1e-6,
        atol: 1e-8,
      });
      expect(relativeError(g.gy0, un.grads[0].dataSync())).toBeLessThan(1e-3);
      g.gParams.forEach((gp, i) => expect(relativeError(gp, un.grads[i + 1].dataSync())).toBeLessThan(1e-3));
      expect(g.stats.backward.nfe).toBeGreaterThan(0);
      expect(g.stats.forward.nfe).toBe(g.stats.nfe);
      [y0, weights, ...un.grads].forEach((x) => x.dispose());
      field.dispose();
    },
  );
});
