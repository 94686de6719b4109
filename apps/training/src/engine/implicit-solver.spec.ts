import * as tf from '@tensorflow/tfjs';
import { packSeries, unionSeries, type Sequences, type Series } from '@continuum/neural';
import { initTensorBackend } from '@continuum/ode';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters, type ModelKind } from '../jobs/job-spec';
import { buildModel, solverConfig, type Trainable } from './models';

/**
 * Item 3 of issue 10: can the engine train a job's model kinds with an implicit solver? With the
 * adjoint gradient, `odeintAdjoint` takes radau5 forward and (as the default `adjointMethod`, the
 * forward method) backward: the implicit adjoint of @continuum/ode. These tests build the models
 * exactly as a job does (`buildModel` + `solverConfig`) and compare the radau5 gradient of the
 * training loss with dopri5's (both adjoint, tight tolerances) — they approximate the same exact
 * gradient — and take a few Adam steps with radau5. Backprop through an implicit solve is not
 * possible (the stiff tensor path is not on the gradient tape): that is checked too.
 */
beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

const D = 2;
const HP: Hyperparameters = {
  ...DEFAULT_HYPERPARAMETERS,
  hidden: 4,
  odeHidden: [8],
  // Tight, so that the two methods' gradients differ by far less than the tolerance below.
  rtol: 1e-6,
  atol: 1e-7,
  seed: 3,
};

/** Three irregular two-sensor series: damped oscillations, 6 readings in about 2 model time units. */
function series(): Series[] {
  return [0, 1, 2].map((b) => {
    const times = [0, 0.3, 0.55, 1.1, 1.4, 2.0].map((t) => t + 0.05 * b);
    const values = times.flatMap((t) => [Math.exp(-0.3 * t) * Math.cos(2 * t + b), 0.5 * Math.sin(t + 0.5 * b)]);
    return { times: times.map((t) => t - times[0]), values };
  });
}

function batch(kind: ModelKind): Sequences {
  return kind === 'latent-ode' ? unionSeries(series(), D) : packSeries(series(), D);
}

/** Loss, flat gradient (every trainable variable, in order) and NFE of one loss evaluation. */
function lossAndGradient(t: Trainable, seq: Sequences) {
  const vars = t.model.variables();
  const { value, grads } = tf.variableGrads(() => t.loss(seq).loss, vars);
  const flat = Float64Array.from(vars.flatMap((v) => Array.from(grads[v.name].dataSync())));
  const loss = value.dataSync()[0];
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  return { loss, flat, nfe: t.model.nfe.take() };
}

const relativeError = (a: Float64Array, b: Float64Array) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

describe.each(['ode-rnn', 'latent-ode'] as ModelKind[])('%s with radau5 and the adjoint gradient', (kind) => {
  it("radau5's gradient of the training loss matches dopri5's; Adam steps with radau5 lower the loss", () => {
    const seq = batch(kind);
    const implicit = buildModel(kind, D, HP, solverConfig('radau5', 'adjoint', HP));
    const explicit = buildModel(kind, D, HP, solverConfig('dopri5', 'adjoint', HP));
    try {
      const before = tf.memory().numTensors;
      const r = lossAndGradient(implicit, seq);
      const e = lossAndGradient(explicit, seq);
      // Same weights (same seed), same loss up to the two solvers' errors.
      expect(Math.abs(r.loss - e.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(e.loss)));
      // Both adjoint gradients are within ~rtol·(a few) of the exact one; float32 evaluations add ~1e-6.
      const err = relativeError(r.flat, e.flat);
      expect(err).toBeLessThan(1e-3);
      expect(r.nfe.forward).toBeGreaterThan(0);
      expect(r.nfe.backward).toBeGreaterThan(0);
      console.log(
        `${kind}: radau5 vs dopri5 gradient relative difference ${err.toExponential(2)}; ` +
          `nfe radau5 ${r.nfe.forward}/${r.nfe.backward}, dopri5 ${e.nfe.forward}/${e.nfe.backward}`,
      );

      const opt = tf.train.adam(0.05);
      const losses: number[] = [];
      for (let step = 0; step < 6; step++) {
        const vars = implicit.model.variables();
        const { value, grads } = tf.variableGrads(() => implicit.loss(seq).loss, vars);
        losses.push(value.dataSync()[0]);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
        implicit.model.nfe.take();
      }
      opt.dispose();
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(Math.min(...losses.slice(1))).toBeLessThan(losses[0]);
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2 * implicit.model.variables().length);
    } finally {
      implicit.model.dispose();
      explicit.model.dispose();
    }
  });
});

describe('backprop through an implicit solve', () => {
  it("is not possible: the stiff tensor path is not on the gradient tape, so the vector field's weights get no gradient", () => {
    const seq = batch('ode-rnn');
    /** Sum of |gradient| of each vector-field weight (null: no gradient at all). */
    const fieldGradients = (method: string): (number | null)[] => {
      const t = buildModel('ode-rnn', D, HP, solverConfig(method, 'backprop', HP));
      try {
        const vars = t.model.variables();
        const { value, grads } = tf.variableGrads(() => t.loss(seq).loss, vars);
        const out = vars
          .filter((v) => v.name.includes('/field/'))
          .map((v) => (grads[v.name] ? tf.tidy(() => tf.abs(grads[v.name]).sum().dataSync()[0]) : null));
        value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
        return out;
      } finally {
        t.model.nfe.take();
        t.model.dispose();
      }
    };
    const explicit = fieldGradients('dopri5');
    expect(explicit.length).toBeGreaterThan(0);
    expect(explicit.every((g) => g !== null && g > 0)).toBe(true);
    const implicit = fieldGradients('radau5');
    expect(implicit).toHaveLength(explicit.length);
    expect(implicit.every((g) => g === null || g === 0)).toBe(true);
  });
});
