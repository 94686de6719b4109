import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeintAdjoint } from '@continuum/ode';
import { type Activation } from './layers';
import { ParamStore } from './params';
import { Rng } from './random';
import { NeuralVectorField, type VectorFieldConfig } from './vector-field';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});
afterAll(() => tf.disposeVariables());

/** ‖a − b‖ / ‖b‖ over every entry of the lists. */
function relErr(a: tf.Tensor[], b: tf.Tensor[]): number {
  let num = 0;
  let den = 0;
  a.forEach((x, k) => {
    const xa = x.dataSync();
    const xb = b[k].dataSync();
    for (let i = 0; i < xb.length; i++) {
      num += (xa[i] - xb[i]) ** 2;
      den += xb[i] ** 2;
    }
  });
  return Math.sqrt(num / den);
}

function field(cfg: Partial<VectorFieldConfig>, seed = 5): NeuralVectorField {
  const store = new ParamStore(new Rng(seed));
  const f = new NeuralVectorField(store.scope('f'), { dim: 6, hidden: [16, 16], ...cfg });
  // Non-zero biases so that every activation regime is exercised.
  f.params().forEach((p, i) =>
    p.assign(tf.add(p, tf.mul(tf.randomUniform(p.shape, -0.3, 0.3, 'float32', seed + i), 1))),
  );
  return f;
}

// Float32 round-off: each gradient entry is a sum of B·hidden products of O(1) factors computed in a
// different order than autodiff's (explicit transposes, fused bias): the relative difference is a few
// float32 epsilons (6e-8) times the depth, ~1e-7–1e-6; 1e-5 leaves margin without hiding a wrong term
// (a missing or transposed term gives O(1) errors).
const TOL = 1e-5;

describe('NeuralVectorField hand-written VJP', () => {
  it.each<[string, Partial<VectorFieldConfig>]>([
    ['tanh', {}],
    ['sigmoid, time input (scalar t)', { activation: 'sigmoid', timeInput: true }],
    ['relu, tanh output, outDim', { activation: 'relu' as Activation, finalActivation: 'tanh', outDim: 4 }],
    ['softplus, one hidden layer', { activation: 'softplus', hidden: [12] }],
    ['elu', { activation: 'elu' }],
  ])('%s: vjp and the custom-gradient apply agree with autodiff of the layer-by-layer form', (_n, cfg) => {
    const f = field(cfg);
    const B = 9;
    const z = tf.randomNormal([B, 6], 0, 1, 'float32', 1);
    const t = tf.scalar(0.7);
    const v = tf.randomNormal([B, cfg.outDim ?? 6], 0, 1, 'float32', 2);
    const params = f.params();
    const ref = tf.engine().gradients(() => tf.sum(tf.mul(f.applyLayers(t, z), v)), [z, ...params]);
    const hand = f.vjp(t, z, v);
    const fast = tf.engine().gradients(() => tf.sum(tf.mul(f.apply(t, z), v)), [z, ...params]);
    expect(relErr([hand.value], [f.applyLayers(t, z)])).toBeLessThan(TOL);
    expect(relErr([hand.dz, ...hand.dParams], ref.grads)).toBeLessThan(TOL);
    expect(relErr(fast.grads, ref.grads)).toBeLessThan(TOL);
  });

  it('time input per sample (t [B, 1]): gradient w.r.t. t and w_t through the custom-gradient apply', () => {
    const f = field({ timeInput: true });
    const B = 5;
    const z = tf.randomNormal([B, 6], 0, 1, 'float32', 3);
    const t = tf.randomUniform([B, 1], 0, 2, 'float32', 4);
    const v = tf.randomNormal([B, 6], 0, 1, 'float32', 5);
    const xs = [z, t, ...f.params()];
    const ref = tf.engine().gradients(() => tf.sum(tf.mul(f.applyLayers(t, z), v)), xs);
    const fast = tf.engine().gradients(() => tf.sum(tf.mul(f.apply(t, z), v)), xs);
    expect(relErr(fast.grads, ref.grads)).toBeLessThan(TOL);
  });

  it('odeintAdjoint with the prepared VJP (vjp option) gives the autodiff gradient, leaking no tensors', () => {
    const f = field({ activation: 'tanh' });
    const params = f.params();
    const y0 = tf.randomNormal([7, 6], 0, 1, 'float32', 6);
    const other = tf.variable(tf.scalar(2)); // a model variable the field does not read: zero gradient
    const all = [...params, other];
    const grad = (useVjp: boolean) => {
      const before = tf.memory().numTensors;
      const g = tf.engine().gradients(() => {
        const r = odeintAdjoint((t, y) => f.applyLayers(t, y), y0, [0, 0.5, 1], all, {
          rtol: 1e-6,
          atol: 1e-8,
          ...(useVjp ? { vjp: f.adjointVjp(all) } : {}),
        });
        return tf.sum(tf.square(r.ys));
      }, [y0, ...all]);
      g.value.dispose();
      expect(tf.memory().numTensors).toBe(before + g.grads.length);
      return g.grads;
    };
    const auto = grad(false);
    const hand = grad(true);
    expect(relErr(hand, auto)).toBeLessThan(TOL);
    expect(hand[hand.length - 1].dataSync()[0]).toBe(0);
  });
});
