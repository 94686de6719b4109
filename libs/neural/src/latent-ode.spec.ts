import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { LatentOde } from './latent-ode';
import { unionSeries } from './sequences';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

const series = [
  { times: [0, 0.3, 0.7], values: [1, 0, 0.8, 0.2, 0.5, 0.4] },
  { times: [0, 0.5, 0.7, 1.1], values: [0, 1, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7], mask: [1, 1, 1, 0, 0, 0, 1, 1] },
];

function model(gradient: 'adjoint' | 'backprop'): LatentOde {
  return new LatentOde({
    obsDim: 2,
    latentDim: 3,
    recHidden: 5,
    dynHidden: [8],
    solver: { method: 'dopri5', rtol: 1e-6, atol: 1e-7, gradient },
    seed: 11,
  });
}

describe('Latent ODE', () => {
  it('encodes onto the union of irregular times, with masks, and decodes every time at once', () => {
    const seq = unionSeries(series, 2);
    expect(seq.union).toEqual([0, 0.3, 0.5, 0.7, 1.1].map(Math.fround));
    expect(seq.T).toBe(5);
    // Sample 0 has no reading at t = 0.5 and 1.1.
    expect(seq.mask[(2 * 2 + 0) * 2]).toBe(0);
    const m = model('backprop');
    const { mean, logVar } = m.encode(seq);
    expect(mean.shape).toEqual([2, 3]);
    expect(logVar.shape).toEqual([2, 3]);
    const z0 = m.sampleZ0(mean, logVar, 4);
    expect(z0.shape).toEqual([8, 3]);
    const zs = m.latentTrajectory(z0, 0, seq.union.slice(1));
    expect(zs.shape).toEqual([4, 8, 3]);
    expect(m.decode(zs).shape).toEqual([4, 8, 2]);
    const pred = m.predict(seq, [0, 0.5, 2, 3], 5);
    expect(pred.mean.length).toBe(4 * 2 * 2);
    expect(pred.samples.length).toBe(5 * 4 * 2 * 2);
    expect(Array.from(pred.std).every((s) => s > 0)).toBe(true);
  });

  it('ELBO and IWAE losses are finite; adjoint gradients agree with backprop through the solver', () => {
    const seq = unionSeries(series, 2);
    const grads = (gradient: 'adjoint' | 'backprop') => {
      const m = model(gradient);
      const r = tf.variableGrads(() => m.loss(seq, seq, { samples: 2 }).loss, m.variables());
      const nfe = m.nfe.take();
      const out = m.variables().map((v) => Array.from(r.grads[v.name].dataSync()));
      return { out, nfe, loss: r.value.dataSync()[0] };
    };
    const a = grads('adjoint');
    const b = grads('backprop');
    expect(a.loss).toBeCloseTo(b.loss, 4);
    expect(a.nfe.backward).toBeGreaterThan(0);
    expect(b.nfe.backward).toBeNull();
    const flatA = a.out.flat();
    const flatB = b.out.flat();
    const scale = Math.max(...flatB.map(Math.abs));
    const err = Math.max(...flatA.map((v, i) => Math.abs(v - flatB[i])));
    expect(err / scale).toBeLessThan(1e-3);
    const m = model('backprop');
    const iw = m.loss(seq, seq, { samples: 3, iwae: true });
    expect(Number.isFinite(iw.loss.dataSync()[0])).toBe(true);
    expect(iw.kl).toBeGreaterThanOrEqual(0);
  });
});
