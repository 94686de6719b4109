import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint, OdeError, tensorBackend } from '@continuum/ode';
import { makeMlp, maxAbsDiff, mlpForward, seededUniform } from './testing/problems';

const D = 4;
const B = 64;
const mlp = makeMlp(D, 16, 7);
let weights: tf.Tensor[] = [];
let biases: tf.Tensor[] = [];

// The WASM backend is what production picks on this kind of machine; set once for the file.
beforeAll(async () => {
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  weights = mlp.w.map((w, l) => tf.tensor2d(Float32Array.from(w), [[D, 16, 16][l], [16, 16, D][l]]));
  biases = mlp.b.map((b) => tf.tensor1d(Float32Array.from(b)));
});
const tensorField = (_t: tf.Tensor, y: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    let x = y;
    for (let l = 0; l < 3; l++) {
      x = tf.add(tf.matMul(x, weights[l]), biases[l]);
      if (l < 2) x = tf.tanh(x);
    }
    return x;
  });
const floatField = (_t: number, y: Float64Array) => mlpForward(mlp, y);
const rand = seededUniform(11);
const y0s = Array.from({ length: B }, () => Array.from({ length: D }, () => rand()));

describe('tensor backend', () => {
  it('reports the backend in use', () => {
    expect(tensorBackend()).toBe('wasm');
  });

  it('equals the float64 backend within float32 accuracy on 64 MLP-driven states (same fixed steps)', () => {
    const ts = [0, 0.5, 1];
    const r = odeint(tensorField, tf.tensor2d(y0s), ts, { method: 'dopri5', stepSize: 0.05 });
    expect(r.ys.shape).toEqual([3, B, D]);
    const ys = r.ys.arraySync() as number[][][];
    let worst = 0;
    y0s.forEach((y0, i) => {
      const ref = odeint(floatField, y0, ts, { method: 'dopri5', stepSize: 0.05 });
      ts.forEach((_t, k) => (worst = Math.max(worst, maxAbsDiff(ys[k][i], ref.ys[k]))));
    });
    // Identical steps: only float32 round-off differs (eps 1.2e-7 per op, |y| ~ 1, 20 steps of 6 stages).
    expect(worst).toBeLessThan(2e-5);
    expect(worst).toBeGreaterThan(0); // it really is float32
    r.ys.dispose();
  });

  it('matches an accurate float64 solution adaptively, within the tolerance', () => {
    const rtol = 1e-5;
    const atol = 1e-6;
    const r = odeint(tensorField, tf.tensor2d(y0s), [0, 1], { rtol, atol });
    const yEnd = (r.ys.arraySync() as number[][][])[1];
    let worst = 0;
    y0s.forEach((y0, i) => {
      const ref = odeint(floatField, y0, [0, 1], { rtol: 1e-11, atol: 1e-13 });
      worst = Math.max(worst, maxAbsDiff(yEnd[i], ref.ys[1]));
    });
    // Global error ≤ 10x the per-unit-time tolerance (|y| ≲ 2) plus float32 round-off.
    expect(worst).toBeLessThan(10 * (atol + rtol * 2) + 1e-5);
    expect(r.stats.errorEstimate).toBeLessThanOrEqual(1);
    r.ys.dispose();
  });

  it('integrates backwards, interpolates, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const y0 = tf.tensor2d(y0s.slice(0, 4));
    const fwd = odeint(tensorField, y0, [0, 0.3, 0.7, 1], { rtol: 1e-6, atol: 1e-7 });
    const yEnd = tf.tidy(() => tf.squeeze(tf.slice(fwd.ys, [3, 0, 0], [1, 4, D]), [0]));
    const bwd = odeint(tensorField, yEnd, [1, 0.7, 0.3, 0], { rtol: 1e-6, atol: 1e-7 });
    const f = fwd.ys.arraySync() as number[][][];
    const b = bwd.ys.arraySync() as number[][][];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 4; i++) expect(maxAbsDiff(f[k][i], b[3 - k][i])).toBeLessThan(1e-4); // 2·10·tol + f32
    [y0, fwd.ys, yEnd, bwd.ys].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('finds events on the dense output', () => {
    // y = (sin t, cos t) in float32; zero of sin at π to float32 accuracy.
    const rot = tf.tensor2d([
      [0, -1],
      [1, 0],
    ]);
    const field = (_t: tf.Tensor, y: tf.Tensor) => tf.matMul(y, rot);
    const r = odeint(field, tf.tensor2d([[0, 1]]), [0, 4], {
      rtol: 1e-6,
      atol: 1e-8,
      events: [{ fn: (_t, y) => y.dataSync()[0], terminal: true }],
    });
    expect(r.terminated).toBe(true);
    expect(Math.abs(r.events[0].t - Math.PI)).toBeLessThan(1e-5); // float32 state, rtol 1e-6
    r.ys.dispose();
    r.events.forEach((e) => e.y.dispose());
    rot.dispose();
  });

  it('raises OdeErrors: shape mismatch and non-finite state', () => {
    const y0 = tf.tensor2d([[1, 2]]);
    const wrong = () => odeint(() => tf.zeros([1, 3]), y0, [0, 1]);
    expect(wrong).toThrow(OdeError);
    expect(wrong).toThrow(/Shape mismatch/);
    try {
      odeint((t, y) => tf.mul(y, tf.div(1, tf.sub(0.5, t))), y0, [0, 1], { method: 'euler', stepSize: 0.25 });
      throw new Error('expected an OdeError');
    } catch (e) {
      expect((e as OdeError).reason).toBe('non_finite_state');
    }
    y0.dispose();
  });
});
