import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, type PreparedFieldVjp } from '@continuum/ode';
import { AugmentedNeuralOde } from './augmented';
import { NeuralCde } from './cde';
import { LatentOde } from './latent-ode';
import type { NeuralModel } from './model';
import { OdeRnnModel } from './ode-rnn-model';
import { packSeries, unionSeries } from './sequences';
import type { SolverConfig } from './solve';
import { NeuralVectorField } from './vector-field';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});
afterAll(() => tf.disposeVariables());

/**
 * Every model's adjoint solves pass their field's hand-written VJP (`NeuralVectorField.adjointVjp`,
 * composed with the CDE's control and the ODE-RNN's per-interval time change); `solver.fieldVjp:
 * 'autodiff'` switches it off. Both paths must give the same gradient.
 */

/** Counts backward passes that went through a field's hand-written VJP. */
function countPrepares(): { count: () => number; restore: () => void } {
  let n = 0;
  const original = NeuralVectorField.prototype.adjointVjp;
  const spy = jest.spyOn(NeuralVectorField.prototype, 'adjointVjp').mockImplementation(function (
    this: NeuralVectorField,
    params: readonly tf.Tensor[],
  ): PreparedFieldVjp {
    const inner = original.call(this, params);
    return {
      prepare: () => {
        n++;
        return inner.prepare();
      },
    };
  });
  return { count: () => n, restore: () => spy.mockRestore() };
}

/** ‖a − b‖ / ‖b‖ over all gradients. */
function relErr(a: Float32Array[], b: Float32Array[]): number {
  let num = 0;
  let den = 0;
  a.forEach((x, k) =>
    x.forEach((v, i) => {
      num += (v - b[k][i]) ** 2;
      den += b[k][i] ** 2;
    }),
  );
  return Math.sqrt(num / den);
}

// Tight tolerances: both paths integrate the same forward and backward systems; their VJPs differ by
// float32 round-off (~1e-6 relative, see vector-field.spec), which can move the adaptive backward steps
// slightly; at rtol 1e-6 that shows at ~1e-5, so 1e-4 leaves margin and still catches a wrong term
// (a missing factor or transposed product changes gradients at O(1)).
const TOL = 1e-4;
const solver = (fieldVjp: 'analytic' | 'autodiff'): SolverConfig => ({
  method: 'dopri5',
  rtol: 1e-6,
  atol: 1e-7,
  gradient: 'adjoint',
  fieldVjp,
});

/** Gradients of `loss` for a model built with each path; checks the hand-written VJP was (not) used. */
function compare<M extends NeuralModel>(
  build: (fieldVjp: 'analytic' | 'autodiff') => M,
  loss: (m: M) => tf.Scalar,
  backwardPasses: number,
): void {
  const run = (fieldVjp: 'analytic' | 'autodiff') => {
    const spy = countPrepares();
    try {
      const m = build(fieldVjp);
      const { value, grads } = tf.variableGrads(() => loss(m), m.variables());
      const nfe = m.nfe.take();
      const out = m.variables().map((v) => Float32Array.from(grads[v.name].dataSync()));
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      expect(nfe.backward).toBeGreaterThan(0);
      m.dispose();
      return { out, prepares: spy.count() };
    } finally {
      spy.restore();
    }
  };
  const auto = run('autodiff');
  const hand = run('analytic');
  expect(auto.prepares).toBe(0);
  expect(hand.prepares).toBe(backwardPasses);
  // Not all zero (a vacuous comparison).
  expect(Math.max(...auto.out.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-4);
  expect(relErr(hand.out, auto.out)).toBeLessThan(TOL);
}

describe('hand-written VJP in the adjoint of every model', () => {
  it('augmented NODE', () => {
    const x = tf.tensor2d([0.1, 0.2, -0.5, 0.7, 1.2, -0.3], [3, 2]);
    compare(
      (v) =>
        new AugmentedNeuralOde({ inputDim: 2, augmentDim: 2, hidden: [8], outputDim: 1, solver: solver(v), seed: 1 }),
      (m) => tf.sum(tf.square(m.forward(x))) as tf.Scalar,
      1,
    );
  });

  it('Latent ODE (time-dependent dynamics; adjoint recognition ODE-RNN over per-sample intervals)', () => {
    const seq = unionSeries(
      [
        { times: [0, 0.3, 0.7], values: [1, 0, 0.8, 0.2, 0.5, 0.4] },
        { times: [0, 0.5, 0.7, 1.1], values: [0, 1, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7], mask: [1, 1, 1, 0, 0, 0, 1, 1] },
      ],
      2,
    );
    compare(
      (v) =>
        new LatentOde({
          obsDim: 2,
          latentDim: 3,
          recHidden: 5,
          dynHidden: [8],
          timeInput: true,
          solver: solver(v),
          encoderSolver: solver(v),
          seed: 11,
        }),
      (m) => m.loss(seq, seq, { samples: 2 }).loss,
      // One latent solve + one encoder solve per interval between the 5 union times.
      1 + (seq.T - 1),
    );
  });

  it('ODE-RNN with a time-dependent field and the adjoint between readings', () => {
    const seq = packSeries(
      [
        { times: [0, 0.2, 0.5, 0.9], values: [1, 0, 0.5, 0.5, 0.2, 0.9, 0.1, 0.3] },
        { times: [0.1, 0.6, 1], values: [0.3, 0.3, 0.6, 0.1, 0.9, 0.8] },
      ],
      2,
    );
    compare(
      (v) => new OdeRnnModel({ obsDim: 2, hiddenDim: 4, odeHidden: [6], timeInput: true, solver: solver(v), seed: 3 }),
      (m) => m.loss(seq).loss,
      seq.T - 1,
    );
  });

  it.each(['natural', 'hermite'] as const)('Neural CDE (%s path)', (interpolation) => {
    const ts = [0, 0.4, 1, 1.3];
    const vals = ts.flatMap((t) => [t, Math.sin(3 * t), t, Math.cos(3 * t)]);
    compare(
      (v) =>
        new NeuralCde({
          inputChannels: 2,
          hiddenDim: 4,
          fieldHidden: [8],
          outputDim: 1,
          interpolation,
          solver: solver(v),
          seed: 1,
        }),
      (m) => tf.sum(tf.square(m.forward(m.path(ts, vals, 2)).output)) as tf.Scalar,
      ts.length - 1,
    );
  });
});
