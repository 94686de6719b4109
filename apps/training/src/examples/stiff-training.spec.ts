import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { compareNfe, fitMotor, FITTED, motorExperiment } from './stiff-training';

/**
 * A short version of the stiff-training example (`npm run example:stiff-training`, docs/training.md):
 * the same stiff motor and solver, noise-free readings (so that what limits the fit is the solvers'
 * error alone), a start closer to the truth and at most 8 BFGS iterations.
 */
beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('stiff training example (full electric-motor model, radau5 forward and adjoint)', () => {
  const data = motorExperiment({ noise: 0 });

  it('dopri5 needs over 10x the evaluations of radau5 on the forward problem, at the same accuracy', () => {
    const [dopri, radau] = compareNfe(data);
    // Both meet the accuracy asked (rtol 1e-4) against the tight float64 reference: well under one
    // noise standard deviation of the sensors.
    expect(dopri.maxErrorInStd).toBeLessThan(0.2);
    expect(radau.maxErrorInStd).toBeLessThan(0.2);
    // The electromechanical eigenvalues (~ −25 ± 30i /s) hold dopri5 to ~0.1 s steps over 2 h.
    expect(dopri.nfe).toBeGreaterThan(10 * (radau.nfe + 5 * radau.njev));
  });

  it('fitting K and the thermal resistances converges with gradients from the implicit adjoint', () => {
    const before = tf.memory().numTensors;
    const fit = fitMotor(data, { iterations: 8, initialFactors: [1.1, 0.8, 1.25] });
    const first = fit.history[0];
    const last = fit.history.at(-1)!;
    console.log(
      `stiff training (short): ${fit.history.length - 1} iterations, loss ${first.loss.toExponential(2)} -> ${last.loss.toExponential(2)} ` +
        `(${fit.lossAtTruth.toExponential(2)} at the truth); errors ${last.paramError.map((e) => `${(100 * e).toFixed(3)}%`).join(' ')}; ` +
        `nfe per gradient ${fit.history.map((h) => h.nfeForward + h.nfeBackward).join(', ')}`,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(first.paramError.map((e) => Math.abs(e))).toEqual([
      expect.closeTo(0.1, 6),
      expect.closeTo(0.2, 6),
      expect.closeTo(0.25, 6),
    ]);
    // Noise-free data: the loss at the truth is the solvers' error alone (forward error ~0.005-0.03
    // noise std, so a loss ~1e-3 at most); the fit must come down from ~1e2-1e3 by 1000x or more.
    expect(first.loss).toBeGreaterThan(10);
    expect(last.loss).toBeLessThan(first.loss / 1000);
    expect(fit.lossAtTruth).toBeLessThan(1e-2);
    // Every parameter within 1 % of the truth (the loss's curvature at that distance is far above the
    // solver-error floor: 1 % in K alone moves the steady current by ~1 A, 3 noise std).
    last.paramError.forEach((e, k) =>
      expect({ parameter: FITTED[k], error: Math.abs(e) < 0.01 }).toEqual({
        parameter: FITTED[k],
        error: true,
      }),
    );
    // Every gradient ran radau5 forward and backward (Jacobians in both passes).
    for (const it of fit.history) {
      expect(it.nfeBackward).toBeGreaterThan(0);
      expect(it.njevForward).toBeGreaterThan(0);
      expect(it.njevBackward).toBeGreaterThan(0);
    }
  });
});
