import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { MaskedGru } from './gru';
import { Mlp } from './layers';
import { OdeRnnModel } from './ode-rnn-model';
import { ParamStore } from './params';
import { Rng } from './random';
import { packSeries } from './sequences';
import { NeuralVectorField } from './vector-field';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('layers and cells', () => {
  it('MLP and vector field shapes, with and without time input', () => {
    const store = new ParamStore(new Rng(1));
    const mlp = new Mlp(store.scope('m'), { widths: [3, 8, 2] });
    expect(mlp.apply(tf.ones([5, 3])).shape).toEqual([5, 2]);
    const f = new NeuralVectorField(store.scope('f'), { dim: 4, hidden: [16, 16], timeInput: true });
    expect(f.apply(tf.scalar(0.5), tf.ones([7, 4])).shape).toEqual([7, 4]);
    expect(f.apply(tf.ones([7, 1]), tf.ones([7, 4])).shape).toEqual([7, 4]);
    // Time input matters; weights stored [in, out].
    const a = f.apply(tf.scalar(0), tf.ones([1, 4])).dataSync();
    const b = f.apply(tf.scalar(1), tf.ones([1, 4])).dataSync();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(store.get('f/in/w')?.shape).toEqual([4, 16]);
  });

  it('masked GRU: all-masked rows keep the state bit for bit, others change', () => {
    const store = new ParamStore(new Rng(2));
    const gru = new MaskedGru(store.scope('g'), 3, 5);
    const h = tf.randomNormal([2, 5], 0, 1, 'float32', 3);
    const x = tf.ones([2, 3]);
    const mask = tf.tensor2d([0, 0, 0, 1, 0, 1], [2, 3]);
    const out = gru.update(h, x, mask);
    const hv = h.arraySync() as number[][];
    const ov = out.arraySync() as number[][];
    expect(ov[0]).toEqual(hv[0]);
    expect(ov[1]).not.toEqual(hv[1]);
  });
});

describe('ODE-RNN', () => {
  const model = new OdeRnnModel({
    obsDim: 2,
    hiddenDim: 6,
    odeHidden: [8],
    solver: { method: 'dopri5', rtol: 1e-4, atol: 1e-5, gradient: 'backprop' },
    seed: 3,
  });

  const seq = packSeries(
    [
      { times: [0, 0.4, 1.0, 1.7], values: [1, 2, 0.5, 0.1, 9, 9, -1, 0.3], mask: [1, 1, 1, 0, 0, 0, 1, 1] },
      { times: [0.2, 0.9, 1.5], values: [0.3, 0.3, 0.1, -0.2, 0.4, 0.6] },
    ],
    2,
  );

  it('packs left-padded batches with masks', () => {
    expect([seq.T, seq.B, seq.D]).toEqual([4, 2, 2]);
    // Sample 1 is padded at step 0 (mask 0, its first time repeated).
    expect(seq.mask[0 * 2 * 2 + 2]).toBe(0);
    expect(seq.times[1]).toBeCloseTo(0.2);
  });

  it('an all-masked reading leaves the ODE evolution untouched', () => {
    const run = model.rnn.run(seq, { collect: true });
    const priors = run.priors as tf.Tensor[];
    const hs = run.hs as tf.Tensor[];
    expect(hs[3].shape).toEqual([2, 6]);
    // Step 2 of sample 0 is entirely masked: the posterior is the evolved prior, bit for bit.
    expect(Array.from(hs[2].dataSync().slice(0, 6))).toEqual(Array.from(priors[2].dataSync().slice(0, 6)));
    // ... and that prior is exactly the ODE solution from the previous posterior.
    const evolved = model.rnn.evolve(hs[1], [0.4, 0.2], [1.0, 0.9]);
    expect(Array.from(priors[2].dataSync())).toEqual(Array.from(evolved.dataSync()));
    // Padding steps leave sample 1 at zero until its first reading.
    expect(Array.from(hs[0].dataSync().slice(6))).toEqual(new Array(6).fill(0));
  });

  it('one-step-ahead loss is finite, reports NFE and has gradients for every variable', () => {
    const { value, grads } = tf.variableGrads(() => model.loss(seq).loss, model.variables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const nfe = model.nfe.take();
    expect(nfe.forward).toBeGreaterThan(0);
    expect(nfe.backward).toBeNull();
    for (const v of model.variables()) expect(grads[v.name]).toBeDefined();
    const pred = model.predictSteps(seq);
    expect(pred.mean.length).toBe(4 * 2 * 2);
    expect(Array.from(pred.std).every((s) => s > 0)).toBe(true);
  });
});
