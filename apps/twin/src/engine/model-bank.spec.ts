import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { gaussian, randomTwinModel } from '../testing/fixtures';
import { DEFAULT_SOLVER, ModelBank } from '@continuum/neural';

beforeAll(async () => {
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
});

/** Irregular readings for `M` machines: per machine `n` readings with exponential gaps. */
function workload(M: number, n: number, D: number, seed = 5) {
  const g = gaussian(seed);
  return Array.from({ length: M }, (_, m) => {
    let t = 1_000_000 + m * 137;
    return Array.from({ length: n }, (_, k) => {
      t += 200 + Math.abs(g()) * 1500 * (1 + (m % 3));
      const values = Array.from({ length: D }, (_, d) => 50 + 10 * Math.sin(t / 3000 + d) + g());
      const mask = Array.from({ length: D }, (_, d) => ((k + d + m) % 4 === 0 ? 0 : 1));
      return { t, values, mask };
    });
  });
}

describe('ModelBank', () => {
  const fixed = { ...DEFAULT_SOLVER, method: 'rk4', stepSize: 0.125 };
  const tight = { ...DEFAULT_SOLVER, rtol: 1e-5, atol: 1e-6 };
  it.each([
    ['the same fixed steps (rk4, 8 steps), on the host', fixed, { hostMaxBatch: Infinity }, 2e-6],
    ['adaptive dopri5 steps, rtol 1e-5, on the host', tight, { hostMaxBatch: Infinity }, 1e-3],
    ['the same fixed steps (rk4, 8 steps), on TensorFlow.js', fixed, { hostMaxBatch: 0 }, 2e-6],
    ['adaptive dopri5 steps, rtol 1e-5, on TensorFlow.js', tight, { hostMaxBatch: 0 }, 1e-3],
  ])('a batched advance equals advancing each machine alone with %s', (_name, solver, options, tolerance) => {
    const model = randomTwinModel({ seed: 11 });
    const D = model.sensors.length;
    const M = 8;
    const data = workload(M, 6, D);
    const batched = new ModelBank(model, { ...solver, ...options }, 4);
    const alone = Array.from({ length: M }, () => new ModelBank(model, { ...solver, ...options }));
    const ids = data.map((_, m) => `m${m}`);
    let maxDiffMean = 0;
    let maxDiffLatent = 0;
    for (let k = 0; k < 6; k++) {
      const slots = Int32Array.from(ids, (id) => batched.slot(id));
      const out = batched.step({
        slots,
        timesMs: Float64Array.from(data, (r) => r[k].t),
        values: Float64Array.from(data.flatMap((r) => r[k].values)),
        mask: Float32Array.from(data.flatMap((r) => r[k].mask)),
      });
      data.forEach((r, m) => {
        const single = alone[m].step({
          slots: Int32Array.of(alone[m].slot(ids[m])),
          timesMs: Float64Array.of(r[k].t),
          values: Float64Array.from(r[k].values),
          mask: Float32Array.from(r[k].mask),
        });
        for (let d = 0; d < D; d++)
          maxDiffMean = Math.max(maxDiffMean, Math.abs(single.mean[d] - out.mean[m * D + d]) / model.scale[d]);
        for (let j = 0; j < out.H; j++)
          maxDiffLatent = Math.max(maxDiffLatent, Math.abs(single.latent[j] - out.latent[m * out.H + j]));
      });
      if (k > 0) expect(out.nfe).toBeGreaterThan(0);
    }
    // Fixed steps: the same arithmetic row by row, so only float32 rounding differs. Adaptive: each
    // solve meets the tolerance on its own steps, and six updates compound the difference.
    expect(maxDiffLatent).toBeLessThan(tolerance);
    expect(maxDiffMean).toBeLessThan(tolerance);
    batched.dispose();
    alone.forEach((b) => b.dispose());
  });

  it.each([
    ['the same fixed steps (rk4, 8 steps)', { ...DEFAULT_SOLVER, method: 'rk4', stepSize: 0.125 }, 2e-4],
    ['adaptive dopri5 steps, the default tolerances', DEFAULT_SOLVER, 1e-2],
  ])('the host path (small rounds) gives the twin of the TensorFlow.js path with %s', (_name, solver, tolerance) => {
    const model = randomTwinModel({ seed: 7, odeHidden: [32, 32] });
    const D = model.sensors.length;
    const M = 12;
    const data = workload(M, 8, D, 21);
    const host = new ModelBank(model, { ...solver, hostMaxBatch: Infinity }, 4);
    const tensor = new ModelBank(model, { ...solver, hostMaxBatch: 0 }, 4);
    let maxDiff = 0;
    for (let k = 0; k < 8; k++) {
      const input = (bank: ModelBank) => ({
        slots: Int32Array.from(data, (_, m) => bank.slot(`m${m}`)),
        timesMs: Float64Array.from(data, (r) => r[k].t),
        values: Float64Array.from(data.flatMap((r) => r[k].values)),
        mask: Float32Array.from(data.flatMap((r) => r[k].mask)),
      });
      const a = host.step(input(host));
      const b = tensor.step(input(tensor));
      // Relative to the values (an untrained model's variances reach e^20): float32 carries ~7 digits.
      for (let i = 0; i < M * D; i++) {
        const d = i % D;
        maxDiff = Math.max(
          maxDiff,
          Math.abs(a.mean[i] - b.mean[i]) / (model.scale[d] + Math.abs(b.mean[i])),
          Math.abs(a.std[i] - b.std[i]) / b.std[i],
        );
      }
      for (let i = 0; i < M * a.H; i++) maxDiff = Math.max(maxDiff, Math.abs(a.latent[i] - b.latent[i]));
      if (k > 0) expect(Math.abs(a.nfe - b.nfe)).toBeLessThanOrEqual(a.nfe / 4);
    }
    // Fixed steps: the same arithmetic in float64 against float32; float32's round-off (6e-8
    // relative) grows through an untrained field over spans of up to 14 model time units and eight
    // updates (measured 5e-5). Adaptive: each path meets rtol 1e-3 on its own step sequence (the
    // error norms differ by round-off, so a step can be accepted on one path and refused on the
    // other), compounded over eight updates (measured 2.3e-3).
    expect(maxDiff).toBeLessThan(tolerance);
    expect(maxDiff).toBeGreaterThan(0); // two paths, really
  });

  it.each([
    ['host', { hostMaxBatch: Infinity }],
    ['TensorFlow.js', { hostMaxBatch: 0 }],
  ])('keeps no tensors per batch, grows, removes and restores machines (%s path)', (_name, options) => {
    const model = randomTwinModel({ seed: 2 });
    const D = model.sensors.length;
    const bank = new ModelBank(model, { ...DEFAULT_SOLVER, ...options }, 2);
    const data = workload(5, 3, D, 9);
    const run = (k: number) =>
      bank.step({
        slots: Int32Array.from(data, (_, m) => bank.slot(`m${m}`)),
        timesMs: Float64Array.from(data, (r) => r[k].t),
        values: Float64Array.from(data.flatMap((r) => r[k].values)),
        mask: Float32Array.from(data.flatMap((r) => r[k].mask)),
      });
    run(0);
    const tensors = tf.memory().numTensors;
    run(1);
    expect(tf.memory().numTensors).toBe(tensors);
    const snap = bank.snapshot(['m1', 'm3']);
    bank.remove(['m1', 'm3']);
    expect(bank.size).toBe(3);
    const other = new ModelBank(model, DEFAULT_SOLVER);
    other.restore(snap);
    expect(Array.from(other.latentOf('m1')!)).toEqual(Array.from(snap[0].h, Math.fround));
    expect(other.timeOf('m3')).toBe(data[3][1].t);
    bank.dispose();
    other.dispose();
  });

  it('warm starts save function evaluations', () => {
    const model = randomTwinModel({ seed: 4, hiddenDim: 16, odeHidden: [64] });
    const D = model.sensors.length;
    const g = gaussian(3);
    const times = Array.from({ length: 8 }, (_, k) =>
      Array.from({ length: 64 }, (_, m) => 1e6 + 1000 * k + m * 10 * Math.abs(g())),
    );
    const nfe = (warmStart: boolean) => {
      const bank = new ModelBank(model, { ...DEFAULT_SOLVER, warmStart }, 64);
      let total = 0;
      for (let k = 0; k < 8; k++)
        total += bank.step({
          slots: Int32Array.from({ length: 64 }, (_, m) => bank.slot(`m${m}`)),
          timesMs: Float64Array.from(times[k]),
          values: new Float64Array(64 * D).fill(55),
          mask: new Float32Array(64 * D).fill(1),
        }).nfe;
      bank.dispose();
      return total;
    };
    const warm = nfe(true);
    const cold = nfe(false);
    expect(warm).toBeLessThan(cold);
  });

  it('forecasts every machine and sample in one solve', () => {
    const model = randomTwinModel({ seed: 8 });
    const D = model.sensors.length;
    const bank = new ModelBank(model, DEFAULT_SOLVER);
    const data = workload(3, 2, D, 1);
    for (let k = 0; k < 2; k++)
      bank.step({
        slots: Int32Array.from(data, (_, m) => bank.slot(`m${m}`)),
        timesMs: Float64Array.from(data, (r) => r[k].t),
        values: Float64Array.from(data.flatMap((r) => r[k].values)),
        mask: Float32Array.from(data.flatMap((r) => r[k].mask)),
      });
    const f = bank.forecast(['m0', 'm2', 'nope'], 5, 4, 16, gaussian(2));
    expect(f.machineIds).toEqual(['m0', 'm2']);
    expect(f.mean.length).toBe(2 * 16 * 4 * D);
    expect(f.nfe).toBeGreaterThan(0);
    expect(Array.from(f.draws).every(Number.isFinite)).toBe(true);
    bank.dispose();
  });
});
