import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeintAdjoint, OdeError, type OdeintAdjointOptions } from '@continuum/ode';
import { BacksolveAdjoint } from './strategies';
import { makeMlpField, relativeError, uniformArray } from './test-fields';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});
afterAll(() => tf.disposeVariables());

const D = 8;
const B = 16;
const TS = [0, 0.4, 1.1, 2];

/** Gradient of Σ ys² w.r.t. y0 and the MLP weights, with the solve's stats. */
function grads(options: OdeintAdjointOptions) {
  const field = makeMlpField(D, 32, 3);
  const y0 = tf.tensor2d(uniformArray(B * D, 21), [B, D]);
  let stats: ReturnType<typeof odeintAdjoint>['stats'] | undefined;
  const { value, grads: g } = tf.engine().gradients(() => {
    const r = odeintAdjoint(field.f, y0, TS, field.params, options);
    stats = r.stats;
    return tf.sum(tf.square(r.ys));
  }, [y0, ...field.params]);
  const flat = Float64Array.from(g.flatMap((x) => Array.from(x.dataSync())));
  [value, y0, ...g].forEach((x) => x.dispose());
  field.dispose();
  return { flat, stats: stats! };
}

describe('adjoint options', () => {
  const ref = () => grads({ rtol: 1e-6, atol: 1e-8 });
  let reference: ReturnType<typeof ref>;
  beforeAll(() => (reference = ref()));

  it("'seminorm' takes no more backward evaluations than the mixed norm, for the same gradient", () => {
    const mixed = grads({ rtol: 1e-4, atol: 1e-6 });
    const semi = grads({ rtol: 1e-4, atol: 1e-6, adjointNorm: 'seminorm' });
    expect(semi.stats.backward.nfe).toBeLessThanOrEqual(mixed.stats.backward.nfe);
    expect(semi.stats.forward.nfe).toBe(mixed.stats.forward.nfe);
    // Both within ~10·rtol of the tight reference.
    expect(relativeError(semi.flat, reference.flat)).toBeLessThan(1e-3);
    expect(relativeError(mixed.flat, reference.flat)).toBeLessThan(1e-3);
  });

  it.each<[string, OdeintAdjointOptions]>([
    ['adjointMethod tsit5', { adjointMethod: 'tsit5' }],
    ['adjointMethod bosh3 with its own tolerances', { adjointMethod: 'bosh3', adjointRtol: 2e-6, adjointAtol: 2e-8 }],
    ['checkpoint, every accepted step', { adjoint: 'checkpoint' }],
    ['checkpoint, at most 2 checkpoints', { adjoint: 'checkpoint', checkpoints: 2 }],
    ['a strategy object', { adjoint: new BacksolveAdjoint() }],
  ])('%s: same gradient as the reference (relative < 1e-3 at rtol 1e-6)', (_name, extra) => {
    const g = grads({ rtol: 1e-6, atol: 1e-8, ...extra });
    expect(relativeError(g.flat, reference.flat)).toBeLessThan(1e-3);
    expect(g.stats.backwardPasses).toBe(1);
    expect(g.stats.backward.nfe).toBeGreaterThan(0);
  });

  it('fixed-step methods run the backward solve with constant steps too', () => {
    const g = grads({ method: 'rk4', stepSize: 0.05 });
    // rk4 with h = 0.05: error O(h⁴) ≈ 1e-5 relative on this smooth field.
    expect(relativeError(g.flat, reference.flat)).toBeLessThan(1e-3);
    expect(g.stats.backward.rejected).toBe(0);
  });
});

describe('adjoint errors', () => {
  const y0 = () => tf.tensor2d([[1, 2]]);
  const f = (_t: tf.Tensor, y: tf.Tensor) => tf.neg(y);
  const expectOdeError = (fn: () => unknown, message: RegExp) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(OdeError);
      expect((e as OdeError).reason).toBe('bad_arguments');
      expect((e as Error).message).toMatch(message);
      return;
    }
    throw new Error('expected an OdeError');
  };

  it('rejects bad params with actionable messages', () => {
    const v = tf.variable(tf.scalar(1));
    const gone = tf.variable(tf.scalar(1));
    gone.dispose();
    const y = y0();
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], v as unknown as tf.Variable[]),
      /must be an array of the tf.Variables/,
    );
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [3 as unknown as tf.Variable]),
      /params\[0\] is number, not a tf.Variable/,
    );
    expectOdeError(() => odeintAdjoint(f, y, [0, 1], [gone]), /params\[0\].*has been disposed/);
    expectOdeError(() => odeintAdjoint(f, y, [0, 1], [v, v]), /params\[1\] appears twice/);
    const ints = tf.tensor1d([1, 2], 'int32');
    expectOdeError(() => odeintAdjoint(f, y, [0, 1], [ints]), /dtype int32; only float32/);
    [v, y, ints].forEach((x) => x.dispose());
  });

  it('rejects shape mismatches, bad times and bad options', () => {
    const y = y0();
    expectOdeError(() => odeintAdjoint(() => tf.zeros([1, 3]), y, [0, 1], []), /Shape mismatch/);
    expectOdeError(() => odeintAdjoint(f, y, [0, 1, 0.5], []), /strictly increasing/);
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [], { gradTimes: true }),
      /gradTimes.*needs `ts` as a 1-D float32 tensor/,
    );
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [], { adjoint: 'magic' as 'backsolve' }),
      /Unknown adjoint 'magic'/,
    );
    expectOdeError(() => odeintAdjoint(f, y, [0, 1], [], { adjointNorm: 'max' as 'seminorm' }), /Unknown adjointNorm/);
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [], { checkpoints: 3 }),
      /only applies to `adjoint: 'checkpoint'`/,
    );
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [], { adjoint: 'checkpoint', checkpoints: 0 }),
      /positive integer/,
    );
    expectOdeError(() => odeintAdjoint(f, y, [0, 1], [], { adjointMethod: 'nope' as 'rk4' }), /Unknown method 'nope'/);
    expectOdeError(
      () => odeintAdjoint(f, y, [0, 1], [], { events: [] } as unknown as OdeintAdjointOptions),
      /does not support events/,
    );
    const ts2 = tf.tensor2d([[0, 1]]);
    expectOdeError(() => odeintAdjoint(f, y, ts2, []), /1-D tensor/);
    [y, ts2].forEach((x) => x.dispose());
  });
});
