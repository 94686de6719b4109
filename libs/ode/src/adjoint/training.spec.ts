import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint, odeintAdjoint } from '@continuum/ode';
import { seededUniform } from '../testing/problems';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

/**
 * Chen et al. (2018)'s spiral, dz/dt = z³ A with A = [[-0.1, 2.0], [-2.0, -0.1]] (z a row vector, z³
 * elementwise), z(0) = (2, 0), observed at 10 irregular times on [0, 1.5] with Gaussian noise
 * (σ = 0.01, a loss floor of about 1e-4). The model is the same ODE with A unknown, started from
 * [[-0.3, 1.4], [-1.4, -0.3]] (initial loss about 2), fitted by Adam (learning rate 0.05) through
 * `odeintAdjoint` with the seminorm. The horizon is short because each step costs about a second of
 * the JS backend on this shared machine.
 */
describe('training: fitting the spiral ODE from 10 noisy irregular observations', () => {
  it('the loss falls by 100x with odeintAdjoint + Adam, leaking no tensors', () => {
    const rand = seededUniform(7);
    const gauss = () => Math.sqrt(-2 * Math.log((rand() + 1) / 2 + 1e-12)) * Math.cos(Math.PI * rand());
    const ts = [0, ...Array.from({ length: 9 }, () => ((rand() + 1) / 2) * 1.5).sort((a, b) => a - b)];
    const z0 = tf.tensor2d([[2, 0]]);
    const trueA = tf.tensor2d([
      [-0.1, 2.0],
      [-2.0, -0.1],
    ]);
    const truth = odeint((_t, z) => tf.matMul(tf.pow(z, 3), trueA), z0, ts, { rtol: 1e-7, atol: 1e-9 }).ys;
    const noise = tf.tensor(
      Array.from({ length: truth.size }, () => 0.01 * gauss()),
      truth.shape,
    );
    const obs = tf.add(truth, noise);
    const A = tf.variable(
      tf.tensor2d([
        [-0.3, 1.4],
        [-1.4, -0.3],
      ]),
    );
    const f = (_t: tf.Tensor, z: tf.Tensor) => tf.matMul(tf.pow(z, 3), A);
    const opt = tf.train.adam(0.05);
    const lossFn = (): tf.Scalar =>
      tf.mean(
        tf.square(tf.sub(odeintAdjoint(f, z0, ts, [A], { rtol: 1e-5, atol: 1e-6, adjointNorm: 'seminorm' }).ys, obs)),
      );
    const losses: number[] = [];
    let before = 0;
    for (let it = 0; it < 60; it++) {
      if (it === 1) before = tf.memory().numTensors; // after Adam has created its slot variables
      const l = opt.minimize(lossFn, true, [A]) as tf.Scalar;
      losses.push(l.dataSync()[0]);
      l.dispose();
      if (losses[it] < losses[0] / 200) break;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 100);
    // The fitted A is near the truth (noise and the short horizon limit how near).
    const a = A.dataSync();
    expect(Math.abs(a[1] - 2)).toBeLessThan(0.2);
    expect(Math.abs(a[2] + 2)).toBeLessThan(0.2);
    [z0, trueA, truth, noise, obs, A].forEach((x) => x.dispose());
    opt.dispose();
  });
});
