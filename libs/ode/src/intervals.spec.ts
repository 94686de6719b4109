import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint, odeintIntervals, OdeError } from '@continuum/ode';
import { maxAbsDiff, seededUniform } from './testing/problems';

// The plain JS backend, deliberately: this file checks the time rescaling, not kernel speed.
beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

// Non-autonomous damped rotation: y' = (1 + 0.5 sin t) · y A, so the time each sample sees matters.
const A = tf.tensor2d([
  [-0.2, -1, 0],
  [1, -0.1, 0.3],
  [0, -0.3, -0.5],
]);
const field = (t: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.mul(tf.matMul(y, A), tf.add(1, tf.mul(0.5, tf.sin(t)))));

const B = 8;
const rand = seededUniform(3);
const y0s = Array.from({ length: B }, () => [rand(), rand(), rand()]);
const t0 = [0, 0.5, 1, 2, 3, 0.25, 4, 1.5];
const t1 = [1, 2.5, 1, 2.1, 6, 0.2, 4, 0.5]; // includes zero-length (2, 6) and backward (5, 7) intervals

describe('odeintIntervals', () => {
  it('matches solving each sample alone with odeint', () => {
    const rtol = 1e-6;
    const atol = 1e-8;
    const r = odeintIntervals(field, tf.tensor2d(y0s), t0, t1, { rtol, atol });
    expect(r.y.shape).toEqual([B, 3]);
    const got = r.y.arraySync() as number[][];
    for (let i = 0; i < B; i++) {
      if (t0[i] === t1[i]) {
        expect(got[i]).toEqual(Array.from(Float32Array.from(y0s[i]))); // exactly unchanged
        continue;
      }
      const alone = odeint(field, tf.tensor2d([y0s[i]]), [t0[i], t1[i]], { rtol, atol });
      const ref = (alone.ys.arraySync() as number[][][])[1][0];
      alone.ys.dispose();
      // Different step sequences, both within tolerance: 10x (atol + rtol·|y|) per unit time
      // over intervals up to 3 long, plus float32 round-off.
      expect(maxAbsDiff(got[i], ref)).toBeLessThan(10 * (atol + rtol) * 3 + 2e-6);
    }
    expect(r.stats.accepted).toBeGreaterThan(0);
    expect(r.nextStep).toBeGreaterThan(0);
    r.y.dispose();
  });

  it('warm-starts from the returned step and keeps the answer', () => {
    const y0 = tf.tensor2d(y0s);
    const cold = odeintIntervals(field, y0, t0, t1);
    const warm = odeintIntervals(field, y0, t0, t1, { firstStep: cold.nextStep });
    // No initial-step probe when firstStep is given.
    expect(warm.stats.nfe).toBeLessThanOrEqual(cold.stats.nfe + 6);
    const a = cold.y.arraySync() as number[][];
    const b = warm.y.arraySync() as number[][];
    a.forEach((row, i) => expect(maxAbsDiff(row, b[i])).toBeLessThan(1e-4));
    [y0, cold.y, warm.y].forEach((t) => t.dispose());
  });

  it('returns the state unchanged when every interval is empty', () => {
    const y0 = tf.tensor2d(y0s);
    const r = odeintIntervals(field, y0, t0, t0);
    expect(r.y.arraySync()).toEqual(y0.arraySync());
    expect(r.stats.nfe).toBe(0);
    [y0, r.y].forEach((t) => t.dispose());
  });

  it('rejects mismatched lengths and shapes', () => {
    const y0 = tf.tensor2d(y0s);
    expect(() => odeintIntervals(field, y0, [0], [1])).toThrow(OdeError);
    expect(() => odeintIntervals(field, tf.tensor1d([1, 2]), [0], [1])).toThrow(/shape \[B, d\]/);
    expect(() => odeintIntervals(() => tf.zeros([B, 2]), y0, t0, t1)).toThrow(/Shape mismatch/);
    y0.dispose();
  });
});
