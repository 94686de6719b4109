import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, type PreparedFieldVjp } from '@continuum/ode';
import { ParamStore } from './params';
import { Rng } from './random';
import { solveAt } from './solve';
import { NeuralVectorField } from './vector-field';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});
afterAll(() => tf.disposeVariables());

describe('solveAt', () => {
  it("passes a hand-written VJP to the adjoint's backward pass, with the autodiff gradient", () => {
    const field = new NeuralVectorField(new ParamStore(new Rng(3)).scope('f'), { dim: 4, hidden: [12] });
    const params = field.params();
    const y0 = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
    let prepared = 0;
    const inner = field.adjointVjp(params);
    const counted: PreparedFieldVjp = {
      prepare: () => {
        prepared++;
        return inner.prepare();
      },
    };
    const grads = (vjp?: PreparedFieldVjp) => {
      const g = tf.engine().gradients(() => {
        const ys = solveAt(
          (t, z) => field.applyLayers(t, z),
          y0,
          [0, 0.4, 1],
          params,
          { rtol: 1e-6, atol: 1e-8 },
          undefined,
          vjp,
        );
        return tf.sum(tf.square(ys));
      }, [y0, ...params]);
      g.value.dispose();
      return g.grads;
    };
    const auto = grads();
    expect(prepared).toBe(0);
    const hand = grads(counted);
    expect(prepared).toBe(1); // one backward pass, through the given VJP
    // Same gradient up to float32 round-off (different summation order), far below the adjoint's
    // tolerance-driven error (both integrate the same backward system with the same steps).
    let num = 0;
    let den = 0;
    hand.forEach((g, k) => {
      const a = g.dataSync();
      const b = auto[k].dataSync();
      for (let i = 0; i < b.length; i++) {
        num += (a[i] - b[i]) ** 2;
        den += b[i] ** 2;
      }
    });
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
    tf.dispose([...auto, ...hand, y0]);
  });
});
