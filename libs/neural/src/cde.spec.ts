import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { AugmentedNeuralOde } from './augmented';
import { NeuralCde } from './cde';
import { evaluatePath, hermiteBackwardCubic, naturalCubicSpline } from './spline';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

const knots = [0, 0.5, 1.2, 2, 2.3];
// B = 2 samples, C = 1 channel: [n, B, C].
const values = [0, 1, 1, 0, 0.5, -1, 2, 0.3, 1, 1];

describe('cubic control paths', () => {
  it('natural cubic spline interpolates, is C² and has zero curvature at the ends', () => {
    const p = naturalCubicSpline(knots, values, 2, 1);
    knots.forEach((t, i) => {
      const v = evaluatePath(p, t);
      expect(v[0]).toBeCloseTo(values[i * 2], 5);
      expect(v[1]).toBeCloseTo(values[i * 2 + 1], 5);
    });
    expect(p.c[0]).toBeCloseTo(0, 6);
    const last = (knots.length - 2) * 2;
    const h = knots[knots.length - 1] - knots[knots.length - 2];
    expect(2 * p.c[last] + 6 * p.d[last] * h).toBeCloseTo(0, 4);
    // Continuity of the first derivative at an interior knot.
    const left = evaluatePath(p, 1.2 - 1e-4, true)[0];
    const right = evaluatePath(p, 1.2 + 1e-4, true)[0];
    expect(left).toBeCloseTo(right, 2);
  });

  it('Hermite backward-difference path interpolates and is causal', () => {
    const p = hermiteBackwardCubic(knots, values, 2, 1);
    knots.forEach((t, i) => expect(evaluatePath(p, t)[0]).toBeCloseTo(values[i * 2], 5));
    // Changing the last observation does not change the path before the second-to-last knot.
    const changed = values.slice();
    changed[8] = 10;
    const q = hermiteBackwardCubic(knots, changed, 2, 1);
    for (const t of [0.1, 0.7, 1.5, 1.99]) expect(evaluatePath(q, t)[0]).toBe(evaluatePath(p, t)[0]);
    const s = naturalCubicSpline(knots, changed, 2, 1);
    expect(evaluatePath(s, 0.7)[0]).not.toBeCloseTo(evaluatePath(naturalCubicSpline(knots, values, 2, 1), 0.7)[0], 3);
  });
});

describe('Neural CDE and augmented NODE', () => {
  it('Neural CDE: hidden states at every knot, read-out, NFE, gradients (natural and Hermite)', () => {
    for (const interpolation of ['natural', 'hermite'] as const) {
      const m = new NeuralCde({
        inputChannels: 2,
        hiddenDim: 4,
        fieldHidden: [8],
        outputDim: 1,
        interpolation,
        solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-4, gradient: 'adjoint' },
        seed: 1,
      });
      // Time as a channel plus one observed channel.
      const ts = [0, 0.4, 1, 1.3];
      const vals = ts.flatMap((t) => [t, Math.sin(3 * t), t, Math.cos(3 * t)]);
      const path = m.path(ts, vals, 2);
      const { value, grads } = tf.variableGrads(() => {
        const { zs, output } = m.forward(path);
        expect(zs.shape).toEqual([4, 2, 4]);
        expect(output.shape).toEqual([2, 1]);
        return tf.sum(output) as tf.Scalar;
      }, m.variables());
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      const nfe = m.nfe.take();
      expect(nfe.forward).toBeGreaterThan(0);
      expect(nfe.backward).toBeGreaterThan(0);
      expect(Object.keys(grads).length).toBe(m.variables().length);
    }
  });

  it('augmented NODE appends zero dimensions and reads out the whole state', () => {
    const plain = new AugmentedNeuralOde({ inputDim: 2, augmentDim: 0, hidden: [8], outputDim: 1, seed: 1 });
    const aug = new AugmentedNeuralOde({ inputDim: 2, augmentDim: 3, hidden: [8], outputDim: 1, seed: 1 });
    const x = tf.tensor2d([0.1, 0.2, -0.5, 0.7], [2, 2]);
    expect(plain.forward(x).shape).toEqual([2, 1]);
    expect(aug.forward(x).shape).toEqual([2, 1]);
    expect(aug.field.config.dim).toBe(5);
    expect(aug.readout.inDim).toBe(5);
    expect(aug.nfe.take().forward).toBeGreaterThan(0);
  });
});
