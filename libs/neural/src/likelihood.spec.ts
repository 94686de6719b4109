import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { gaussianNll, klStandardNormal, logMeanExp, logNormal } from './likelihood';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('likelihood', () => {
  it('KL(N(μ,σ²) ‖ N(0,1)) matches the closed form computed by hand', () => {
    // Sample 0: μ = (0.5, −1), σ² = (0.25, 1); sample 1: μ = 0, σ² = 1 (KL 0).
    const mean = tf.tensor2d([0.5, -1, 0, 0], [2, 2]);
    const logVar = tf.tensor2d([Math.log(0.25), 0, 0, 0], [2, 2]);
    const kl = klStandardNormal(mean, logVar).arraySync() as number[];
    const hand = 0.5 * (0.25 + 0.25 - 1 - Math.log(0.25)) + 0.5 * (1 + 1 - 1 - 0);
    expect(kl[0]).toBeCloseTo(hand, 6);
    expect(kl[1]).toBeCloseTo(0, 7);
  });

  it('masked Gaussian NLL sums only observed entries, per sample', () => {
    const x = tf.tensor2d([1, 5, 0, 2], [2, 2]);
    const mean = tf.tensor2d([0.5, 0, 0, 0], [2, 2]);
    const logVar = tf.tensor2d([Math.log(4), 0, 0, Math.log(0.5)], [2, 2]);
    const mask = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const nll = gaussianNll(x, mean, logVar, mask, 0).arraySync() as number[];
    const l2pi = Math.log(2 * Math.PI);
    expect(nll[0]).toBeCloseTo(0.5 * (l2pi + Math.log(4) + 0.25 / 4), 5);
    expect(nll[1]).toBeCloseTo(0.5 * (l2pi + Math.log(0.5) + 4 / 0.5), 5);
  });

  it('log N and log-mean-exp agree with direct formulas', () => {
    const z = tf.tensor2d([[0.3, -0.2]]);
    const v = logNormal(z, tf.zeros([1, 2]), tf.zeros([1, 2])).arraySync() as number[];
    expect(v[0]).toBeCloseTo(-Math.log(2 * Math.PI) - 0.5 * (0.09 + 0.04), 5);
    const lme = logMeanExp(tf.tensor1d([0, Math.log(3)]), 0).arraySync() as number;
    expect(lme).toBeCloseTo(Math.log(2), 6);
  });
});
