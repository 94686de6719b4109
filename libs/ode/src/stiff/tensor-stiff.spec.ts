import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint } from '@continuum/ode';
import type { StiffStats } from './system';

// 64 independent 3×3 systems y' = A_b y, A_b = V diag(−1, −√λ_b, −λ_b) V⁻¹, λ_b log-spaced over [10, 1e4]:
// eigenvalues from −1 to −1e4, exact solution known.
const B = 64;
const lams = Array.from({ length: B }, (_, b) => 10 ** (1 + (3 * b) / (B - 1)));
const V = [
  [1, 0.5, 0],
  [0, 1, 0.5],
  [0, 0, 1],
];
const Vi = [
  [1, -0.5, 0.25],
  [0, 1, -0.5],
  [0, 0, 1],
];
const eig = (lam: number) => [-1, -Math.sqrt(lam), -lam];
const mats = lams.map((lam) =>
  V.map((row) => [0, 1, 2].map((j) => row.reduce((s, vik, k) => s + vik * eig(lam)[k] * Vi[k][j], 0))),
);
const exact = (b: number, t: number, y0: number[]) => {
  const w = Vi.map((row) => row[0] * y0[0] + row[1] * y0[1] + row[2] * y0[2]).map(
    (v, k) => v * Math.exp(eig(lams[b])[k] * t),
  );
  return V.map((row) => row[0] * w[0] + row[1] * w[1] + row[2] * w[2]);
};
const y0s = Array.from({ length: B }, (_, b) => [1, 0.5 - b / B, 0.25]);
let A: tf.Tensor3D;

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
  A = tf.keep(tf.tensor3d(mats));
});
afterAll(() => A.dispose());

// f_b(y) = A_b y_b, batched: [B,3,3] × [B,3,1].
const field = (_t: tf.Tensor, y: tf.Tensor) => tf.squeeze(tf.matMul(A, tf.expandDims(y, 2)), [2]);

describe('stiff solvers on the tensor backend', () => {
  it.each(['radau5', 'rodas4', 'kvaerno5'] as const)(
    '%s: 64 stiff linear systems (eigenvalues −1 … −1e4) in one call, Jacobian by autodiff, match float64 within float32 accuracy',
    (method) => {
      const ts = [0, 0.5, 2];
      const opts = { method, rtol: 1e-5, atol: 1e-7 };
      const y0 = tf.tensor2d(y0s);
      const before = tf.memory().numTensors;
      const r = odeint(field, y0, ts, opts);
      y0.dispose();
      expect(r.ys.shape).toEqual([3, B, 3]);
      const ys = r.ys.arraySync() as number[][][];
      r.ys.dispose();
      expect(tf.memory().numTensors).toBe(before - 1); // no leaks (y0 disposed)
      expect((r.stats as StiffStats).njev).toBeGreaterThan(0);
      let worstVsFloat64 = 0;
      let worstVsExact = 0;
      for (let b = 0; b < B; b++) {
        const ref = odeint(
          (_t, y) => mats[b].map((row) => row[0] * y[0] + row[1] * y[1] + row[2] * y[2]),
          y0s[b],
          ts,
          opts,
        );
        ts.forEach((t, k) => {
          const ex = exact(b, t, y0s[b]);
          for (let i = 0; i < 3; i++) {
            worstVsFloat64 = Math.max(worstVsFloat64, Math.abs(ys[k][b][i] - ref.ys[k][i]));
            worstVsExact = Math.max(worstVsExact, Math.abs(ys[k][b][i] - ex[i]));
          }
        });
      }
      // The batch shares one step sequence (the worst sample's), the float64 solves pick their own, so
      // the two differ by global solver error (a few rtol = 1e-5 at |y| ≤ 1; kvaerno5 measured 5.4e-5)
      // plus float32 round-off of f (~1e-7 relative).
      expect(worstVsFloat64).toBeLessThan(1e-4);
      expect(worstVsExact).toBeLessThan(1e-4);
    },
  );
});
