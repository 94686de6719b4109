import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { NeuralVectorField, ParamStore, Rng, solveAt } from '@continuum/neural';

jest.setTimeout(85_000);

/**
 * Memory of one training step on a long history: backprop through the solver keeps every step's
 * activations (grows linearly with the steps), the adjoint keeps the outputs only. Backprop is
 * measured on a short history and extrapolated (linear in the steps); the adjoint is run on the
 * long one. Peak bytes from tf.profile.
 */
describe('training memory: adjoint vs backprop on a long history', () => {
  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu' });
  });

  const B = 512;
  const d = 16;
  const step = 0.01;

  async function peak(steps: number, gradient: 'adjoint' | 'backprop'): Promise<{ peakBytes: number }> {
    const store = new ParamStore(new Rng(1));
    const field = new NeuralVectorField(store.scope('f'), { dim: d, hidden: [64], activation: 'tanh' });
    const vars = store.list();
    const y0 = tf.randomNormal([B, d], 0, 1, 'float32', 3);
    const info = await tf.profile(() => {
      const { grads, value } = tf.variableGrads(() => {
        const ys = solveAt((t, y) => field.apply(t, y), y0, [0, steps * step], vars, {
          method: 'rk4',
          stepSize: step,
          gradient,
        });
        return tf.mean(tf.square(ys)) as tf.Scalar;
      }, vars);
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    });
    y0.dispose();
    store.dispose();
    return info;
  }

  it('stays under 300 MiB with the adjoint where backprop needs over 1 GiB', async () => {
    const short = 10;
    const long = 150;
    const bp1 = (await peak(short, 'backprop')).peakBytes;
    const bp2 = (await peak(2 * short, 'backprop')).peakBytes;
    const perStep = (bp2 - bp1) / short;
    const backpropLong = bp1 + perStep * (long - short);
    const adjointLong = (await peak(long, 'adjoint')).peakBytes;
    const MiB = 2 ** 20;
    console.log(
      `memory: backprop ${(bp1 / MiB).toFixed(1)} MiB at ${short} steps, ${(bp2 / MiB).toFixed(1)} MiB at ${2 * short} ` +
        `(${(perStep / MiB).toFixed(2)} MiB/step) -> ${(backpropLong / MiB).toFixed(0)} MiB at ${long} steps; ` +
        `adjoint at ${long} steps: ${(adjointLong / MiB).toFixed(1)} MiB peak`,
    );
    expect(backpropLong).toBeGreaterThan(1024 * MiB);
    expect(adjointLong).toBeLessThan(300 * MiB);
  });
});
