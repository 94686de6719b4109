import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import type { Activation } from '../layers';
import { OdeRnnModel } from '../ode-rnn-model';
import { HostOdeRnn } from './host-kernels';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

/** Deterministic values in [-2, 2), float32-representable (the tensor forms get the same inputs). */
function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return Math.fround((s / 2 ** 32) * 4 - 2);
  });
}
const f32 = (a: Float64Array) => Float32Array.from(a);

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/**
 * The host forms against the tensor forms they replace for small batches, on models with every
 * option the twin's models may have. TensorFlow.js computes in float32: agreement to a few float32
 * ulps of values of order 1 (and tanh there is 2σ(2x) − 1, equal up to round-off).
 */
describe.each([
  ['tanh, autonomous, linear decoder', { activation: 'tanh' as Activation, timeInput: false, decoderHidden: [] }],
  [
    'tanh, time input, two field layers, hidden decoder',
    { activation: 'tanh' as Activation, timeInput: true, odeHidden: [16, 12], decoderHidden: [6] },
  ],
  ['softplus', { activation: 'softplus' as Activation, timeInput: true, decoderHidden: [5] }],
  ['relu', { activation: 'relu' as Activation, timeInput: false, decoderHidden: [5] }],
  ['elu', { activation: 'elu' as Activation, timeInput: true, decoderHidden: [] }],
])('host ODE-RNN kernels (%s)', (_name, options) => {
  const D = 3;
  const H = 7;
  const B = 5;
  const model = new OdeRnnModel({ obsDim: D, hiddenDim: H, seed: 4, ...options });
  const host = HostOdeRnn.from(model);
  const h = values(B * H, 1);
  const t = values(B, 2);

  it('vector field f(t, z), each row at its own time', () => {
    const ref = tf.tidy(() =>
      model.rnn.field.apply(tf.tensor2d(f32(t), [B, 1]), tf.tensor2d(f32(h), [B, H])).dataSync(),
    );
    expect(maxDiff(host.field(t, h), ref)).toBeLessThan(2e-6);
  });

  it('read-out: means then log variances', () => {
    const ref = tf.tidy(() => {
      const { mean, logVar } = model.readout(tf.tensor2d(f32(h), [B, H]));
      return tf.concat([mean, logVar], 1).dataSync();
    });
    expect(maxDiff(host.readout(h, B), ref)).toBeLessThan(2e-6);
  });

  it('masked GRU update; a row with nothing observed keeps its state exactly', () => {
    const x = Float32Array.from(values(B * D, 3));
    const mask = Float32Array.from([1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1]);
    for (let i = 0; i < B * D; i++) if (!mask[i]) x[i] = 0;
    const ref = tf.tidy(() =>
      model.rnn.gru.update(tf.tensor2d(f32(h), [B, H]), tf.tensor2d(x, [B, D]), tf.tensor2d(mask, [B, D])).dataSync(),
    );
    const got = host.gru(h, x, mask, B);
    expect(maxDiff(got, ref)).toBeLessThan(2e-6);
    expect(Array.from(got.subarray(2 * H, 3 * H))).toEqual(Array.from(h.subarray(2 * H, 3 * H)));
    // Not a no-op elsewhere.
    expect(maxDiff(got.subarray(0, H), h.subarray(0, H))).toBeGreaterThan(1e-3);
  });
});
