import * as tf from '@tensorflow/tfjs';
import {
  Float64Ops,
  initTensorBackend,
  odeint,
  odeintIntervals,
  odeintIntervalsFloat64,
  OdeError,
} from '@continuum/ode';
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

/** The same field on the host: y' = (1 + 0.5 sin t) · y A per row of y [B · 3], each row at its own time. */
const Ah = [
  [-0.2, -1, 0],
  [1, -0.1, 0.3],
  [0, -0.3, -0.5],
];
function hostField(t: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < t.length; i++) {
    const c = 1 + 0.5 * Math.sin(t[i]);
    for (let o = 0; o < 3; o++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) acc += y[i * 3 + k] * Ah[k][o];
      out[i * 3 + o] = c * acc;
    }
  }
  return out;
}

describe('odeintIntervalsFloat64', () => {
  const y0 = Float64Array.from(y0s.flat());

  it('matches solving each sample alone with the Float64 odeint, in double precision', () => {
    const rtol = 1e-9;
    const atol = 1e-12;
    const r = odeintIntervalsFloat64(hostField, y0, 3, t0, t1, { rtol, atol });
    expect(r.y).toHaveLength(B * 3);
    for (let i = 0; i < B; i++) {
      const got = Array.from(r.y.subarray(i * 3, i * 3 + 3));
      if (t0[i] === t1[i]) {
        expect(got).toEqual(y0s[i]); // exactly unchanged (its rescaled derivative is 0)
        continue;
      }
      const alone = odeint((t, y) => hostField(Float64Array.of(t), y), y0s[i], [t0[i], t1[i]], { rtol, atol });
      // Different step sequences, both within tolerance: 10x (atol + rtol·|y|) per unit time over
      // intervals up to 3 long; no float32 round-off here.
      expect(maxAbsDiff(got, Array.from(alone.ys[1]))).toBeLessThan(10 * (atol + rtol) * 3);
    }
    expect(r.stats.accepted).toBeGreaterThan(0);
    expect(r.nextStep).toBeGreaterThan(0);
  });

  it('agrees with the tensor form to float32 precision and takes as many steps', () => {
    const host = odeintIntervalsFloat64(hostField, y0, 3, t0, t1, { rtol: 1e-5, atol: 1e-6 });
    const tensor = odeintIntervals(field, tf.tensor2d(y0s), t0, t1, { rtol: 1e-5, atol: 1e-6 });
    const t = (tensor.y.arraySync() as number[][]).flat();
    expect(maxAbsDiff(Array.from(host.y), t)).toBeLessThan(1e-4);
    expect(Math.abs(host.stats.accepted - tensor.stats.accepted)).toBeLessThanOrEqual(1);
    tensor.y.dispose();
  });

  it('warm-starts from the returned step, returns empty intervals unchanged, rejects bad input', () => {
    const cold = odeintIntervalsFloat64(hostField, y0, 3, t0, t1);
    const warm = odeintIntervalsFloat64(hostField, y0, 3, t0, t1, { firstStep: cold.nextStep });
    expect(warm.stats.nfe).toBeLessThanOrEqual(cold.stats.nfe + 6);
    expect(maxAbsDiff(Array.from(cold.y), Array.from(warm.y))).toBeLessThan(1e-4);
    const empty = odeintIntervalsFloat64(hostField, y0, 3, t0, t0);
    expect(Array.from(empty.y)).toEqual(Array.from(y0));
    expect(empty.stats.nfe).toBe(0);
    expect(() => odeintIntervalsFloat64(hostField, y0, 3, [0], [1])).toThrow(OdeError);
    expect(() => odeintIntervalsFloat64(hostField, y0, 3, [NaN, ...t0.slice(1)], t1)).toThrow(/finite/);
    expect(() => odeintIntervalsFloat64(hostField, y0.subarray(1), 3, t0, t1)).toThrow(/B·d/);
    expect(() => odeintIntervalsFloat64(() => new Float64Array(2), y0, 3, t0, t1)).toThrow(/Shape mismatch/);
  });
});

describe('Float64Ops over a batch of rows', () => {
  it('takes the largest per-row scaled RMS norm, with per-component atol', () => {
    const ops = new Float64Ops(2, { rtol: 0.1, atol: [1, 2] }, 2);
    const x = Float64Array.of(1, 2, 3, 0);
    const ref = Float64Array.of(0, 0, 10, 0);
    // Row 0: (1/1)² + (2/2)² → 1; row 1: (3/(1 + 0.1·10))² + 0 → 2.25 / 2.
    expect(ops.scaledNorm(x, ref, null)).toBeCloseTo(Math.sqrt(Math.max(1, 2.25 / 2)), 12);
    expect(ops.scaledNorm(Float64Array.of(1, NaN, 0, 0), ref, null)).toBeNaN();
    expect(ops.scaledNorm(Float64Array.of(0, 0, Infinity, 0), ref, null)).toBe(Infinity);
    expect(Array.from(ops.combine(Float64Array.of(1, 1, 1, 1), [2, 0], [x, x]))).toEqual([3, 5, 7, 1]);
    expect(() => new Float64Ops(2, { rtol: 0.1, atol: [1] }, 2)).toThrow(/atol/);
  });
});
