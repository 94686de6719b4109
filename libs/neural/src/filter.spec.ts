import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { OnlineFilter } from './filter';
import { OdeRnnModel } from './ode-rnn-model';
import { packSeries } from './sequences';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('online filter', () => {
  it('advance / update / predict over a batch of machines agrees with the batch ODE-RNN', () => {
    const model = new OdeRnnModel({
      obsDim: 2,
      hiddenDim: 4,
      solver: { method: 'dopri5', rtol: 1e-6, atol: 1e-7, gradient: 'backprop' },
      seed: 2,
    });
    const filter = new OnlineFilter(model);
    let s = filter.init(3, 0);
    const readings = [
      { dt: [0, 0, 0], x: [1, 2, 0, 0, 3, 4], m: [1, 1, 0, 0, 1, 0] },
      { dt: [0.5, 0.2, 0.7], x: [0.5, 0.1, 1, 1, -1, 2], m: [1, 1, 1, 1, 0, 0] },
    ];
    for (const r of readings) {
      s = filter.advance(s, r.dt);
      s = filter.update(s, r.x, r.m);
    }
    expect(Array.from(s.t)).toEqual([0.5, 0.2, 0.7]);
    expect(s.nfe).toBeGreaterThan(0);
    const p = filter.predict(s);
    expect(p.mean.length).toBe(6);
    expect(Array.from(p.std).every((v) => v > 0)).toBe(true);
    // The same readings through the batch ODE-RNN give the same states.
    const seq = packSeries(
      [0, 1, 2].map((i) => ({
        times: [0, readings[1].dt[i]],
        values: [...readings[0].x.slice(2 * i, 2 * i + 2), ...readings[1].x.slice(2 * i, 2 * i + 2)],
        mask: [...readings[0].m.slice(2 * i, 2 * i + 2), ...readings[1].m.slice(2 * i, 2 * i + 2)],
      })),
      2,
    );
    const h = model.rnn.run(seq).h.dataSync();
    const hf = s.h.dataSync();
    h.forEach((v, i) => expect(hf[i]).toBeCloseTo(v, 4));
  });

  it('an all-masked update and a zero advance leave the state bit for bit', () => {
    const model = new OdeRnnModel({ obsDim: 3, hiddenDim: 5, seed: 4 });
    const filter = new OnlineFilter(model);
    let s = filter.init(2);
    s = filter.update(s, [1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1]);
    s = filter.advance(s, [0.3, 0.1]);
    const before = Array.from(s.h.dataSync());
    s = filter.update(s, [9, 9, 9, 9, 9, 9], [0, 0, 0, 0, 0, 0]);
    s = filter.advance(s, 0);
    expect(Array.from(s.h.dataSync())).toEqual(before);
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      s = filter.advance(s, 0.1);
      s = filter.update(s, new Float32Array(6).fill(1), [1, 0, 1, 0, 0, 0]);
      filter.predict(s);
    }
    expect(tf.memory().numTensors).toBe(n);
  });
});
