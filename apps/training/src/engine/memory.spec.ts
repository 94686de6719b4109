import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { NeuralVectorField, ParamStore, Rng, solveAt } from '@continuum/neural';

jest.setTimeout(120_000);

/**
 * Memory of one training step on a long history: backprop through the solver keeps every step's
 * activations (grows linearly with the steps), the adjoint keeps the outputs only. Both are
 * measured at two history lengths; peak bytes from tf.profile.
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
    // Running the adjoint over the ~700 steps it takes backprop to pass 1 GiB would take minutes on
    // this machine, so both are measured at two lengths: backprop grows linearly with the steps, the
    // adjoint must not grow at all, and the history at which backprop passes 1 GiB follows.
    const MiB = 2 ** 20;
    const bp10 = (await peak(10, 'backprop')).peakBytes;
    const bp20 = (await peak(20, 'backprop')).peakBytes;
    const perStep = (bp20 - bp10) / 10;
    const stepsFor1GiB = Math.ceil(10 + (1024 * MiB - bp10) / perStep);
    const adj10 = (await peak(10, 'adjoint')).peakBytes;
    const adj30 = (await peak(30, 'adjoint')).peakBytes;
    console.log(
      `memory: backprop ${(bp10 / MiB).toFixed(1)} MiB at 10 steps, ${(bp20 / MiB).toFixed(1)} MiB at 20 ` +
        `(${(perStep / MiB).toFixed(2)} MiB/step, > 1 GiB from ${stepsFor1GiB} steps); ` +
        `adjoint ${(adj10 / MiB).toFixed(2)} MiB at 10 steps, ${(adj30 / MiB).toFixed(2)} MiB at 30`,
    );
    expect(perStep).toBeGreaterThan(0.5 * MiB); // backprop keeps every step's activations
    // The adjoint's peak does not depend on the number of steps (within 1% of backprop's growth).
    expect(Math.abs(adj30 - adj10)).toBeLessThan(0.01 * perStep * 20);
    expect(adj30).toBeLessThan(300 * MiB);
    expect(stepsFor1GiB).toBeLessThan(2000); // a history of realistic length
  });
});
