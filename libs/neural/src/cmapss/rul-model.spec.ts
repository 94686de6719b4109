import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { Rng } from '../random';
import { packSeries } from '../sequences';
import { fitNormalisation } from './data';
import { predictRul } from './pipeline';
import { clipRul, RulOdeRnn } from './rul-model';
import { smallRulModel, syntheticEngines as engines } from './synthetic-engines';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('RulOdeRnn predictions', () => {
  const cap = 125;
  const data = engines(3, 40, 5);
  const norm = fitNormalisation(data, cap);
  const F = norm.features.length + 1;

  const model = (): RulOdeRnn => smallRulModel(F, cap, 3);

  /** Makes the head the constant `v` (RUL / cap): last layer's weights zero, bias v. */
  function constantHead(m: RulOdeRnn, v: number): void {
    const last = m.head.layers[m.head.layers.length - 1];
    last.w.assign(tf.zerosLike(last.w));
    last.b.assign(tf.fill(last.b.shape, v));
  }

  it('clips the head output to [0, cap] cycles in the prediction path', () => {
    const m = model();
    // Raw outputs 150 and -12.5 cycles are clipped to the cap and to 0; 50 passes through.
    for (const [v, expected] of [
      [1.2, cap],
      [-0.1, 0],
      [0.4, 50],
    ]) {
      constantHead(m, v);
      const rul = predictRul({ model: m, norm, window: 20 }, data);
      expect(rul).toHaveLength(data.length);
      // float32 head: 0.4 * 125 within 1e-4 cycles.
      for (const r of rul) expect(r).toBeCloseTo(expected, 4);
    }
    m.dispose();
  });

  it('clipping changes only out-of-range outputs (random head, compared with forward × cap)', () => {
    const m = model();
    // Scale the last layer up so that outputs spread well beyond [0, 1].
    const last = m.head.layers[m.head.layers.length - 1];
    last.w.assign(tf.mul(last.w, 20));
    last.b.assign(tf.fill(last.b.shape, 0.5));
    const rng = new Rng(9);
    const series = Array.from({ length: 16 }, () => ({
      times: Array.from({ length: 10 }, (_, i) => (i + 1) / 100),
      values: Float32Array.from({ length: 10 * F }, () => 2 * rng.normal()),
    }));
    const seq = packSeries(series, F);
    const raw = Array.from(
      tf.tidy(() => m.forward(seq).dataSync()),
      (x) => x * cap,
    );
    const clipped = Array.from(m.predictCycles(seq));
    expect(raw.some((x) => x > cap)).toBe(true);
    expect(raw.some((x) => x < 0)).toBe(true);
    raw.forEach((x, i) => expect(clipped[i]).toBeCloseTo(Math.min(cap, Math.max(0, x)), 3));
    expect(clipRul(Number.NaN, cap)).toBeNaN();
    m.dispose();
  });
});
