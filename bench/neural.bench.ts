/**
 * `npm run bench:neural` — libs/neural (issue 6).
 *
 * 1. Latent ODE training step on the spiral task (Chen et al. 2018 sizes as torchdiffeq's example: 4-d
 *    latent, 25-unit recognition ODE-RNN, dynamics 4 → 20 → 20 → 4, decoder 4 → 20 → 2; batch 40
 *    spirals, 30 irregular observations each): wall time of loss + gradient + Adam-free update, and
 *    NFE forward / backward, with gradients by `odeintAdjoint` (seminorm) against backprop through
 *    `odeint` (dopri5, rtol 1e-3, atol 1e-4).
 * 2. Online filter `advance + update + predict` throughput for 1, 100 and 10,000 machines (ODE-RNN,
 *    14 sensors, hidden 32, dopri5 between readings, warm-started, half the sensors reporting).
 * 3. C-MAPSS RUL training epoch (`trainRul`, 20 steps of 128 windows of 30 readings + validation) with
 *    the shipped settings (RUL_TRAIN_SETTINGS: hidden 64, weight averaging, 60-cycle span) against the
 *    settings before them (hidden 32, no averaging, last 30 readings), and the cost of averaging alone
 *    (hidden 64 without it); needs ../shared/datasets/cmapss/train_FD001.txt (skipped, and said so,
 *    without it).
 *
 * Backend: WASM (CONTINUUM_TF_BACKEND overrides). Minimum of the repeats; absolute times are noisy on
 * a shared machine.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import {
  OdeRnnModel,
  OnlineFilter,
  readCmapss,
  Rng,
  RUL_TRAIN_SETTINGS,
  type RulTrainOptions,
  trainRul,
  unionSeries,
} from '@continuum/neural';
import { makeSpirals, observed, paperLatentOde } from '../libs/neural/experiments/spirals';

const CMAPSS = '../shared/datasets/cmapss/train_FD001.txt';

/** Seconds per training epoch of `trainRul` (minimum over epochs 2-4; the first warms up). */
function rulEpochBench(settings: RulTrainOptions): number {
  const seconds: number[] = [];
  const p = trainRul(readCmapss(CMAPSS), {
    ...settings,
    epochs: 4,
    patience: 1000,
    maxSeconds: 600,
    onProgress: (e) => void (e.epoch > 0 && seconds.push(e.seconds)),
  });
  p.model.dispose();
  return Math.min(...seconds);
}

function stepBench(gradient: 'adjoint' | 'backprop', repeats: number) {
  const model = paperLatentOde(gradient, 3);
  const seq = unionSeries(makeSpirals(40, 5).map(observed), 2);
  const times: number[] = [];
  let nfe = { forward: 0, backward: null as number | null };
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => model.loss(seq, seq).loss, model.variables());
    value.dataSync();
    times.push(performance.now() - t0);
    nfe = model.nfe.take();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
  }
  model.dispose();
  return { ms: Math.min(...times), nfe };
}

function filterBench(M: number, steps: number) {
  const model = new OdeRnnModel({
    obsDim: 14,
    hiddenDim: 32,
    odeHidden: [32],
    solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-4 },
    seed: 1,
  });
  const filter = new OnlineFilter(model);
  const rng = new Rng(1);
  const reading = rng.normals(M * 14);
  const mask = Float32Array.from({ length: M * 14 }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const dt = Float32Array.from({ length: M }, () => 0.5 + rng.uniform());
  let s = filter.init(M);
  let nfe = 0;
  // Warm-up step.
  s = filter.update(filter.advance(s, dt), reading, mask);
  filter.predict(s);
  const t0 = performance.now();
  for (let k = 0; k < steps; k++) {
    s = filter.advance(s, dt);
    nfe += s.nfe;
    s = filter.update(s, reading, mask);
    filter.predict(s);
  }
  const ms = (performance.now() - t0) / steps;
  s.h.dispose();
  model.dispose();
  return { msPerStep: ms, machineStepsPerSec: (M * 1000) / ms, nfePerAdvance: nfe / steps };
}

async function main(): Promise<void> {
  const backend = await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' });
  console.log(`backend ${backend}`);
  console.log('\nLatent ODE training step, spirals (batch 40, union of irregular times):');
  console.log('| gradient | step (ms, min of 3) | NFE forward | NFE backward |');
  console.log('|---|---|---|---|');
  for (const g of ['adjoint', 'backprop'] as const) {
    const r = stepBench(g, 3);
    console.log(`| ${g} | ${r.ms.toFixed(0)} | ${r.nfe.forward} | ${r.nfe.backward ?? '— (backprop)'} |`);
  }
  console.log('\nOnline filter advance + update + predict (14 sensors, hidden 32, dopri5):');
  console.log('| machines | ms per step | machine-steps/s | NFE per advance |');
  console.log('|---|---|---|---|');
  for (const [M, steps] of [
    [1, 200],
    [100, 100],
    [10_000, 5],
  ]) {
    const r = filterBench(M, steps);
    console.log(
      `| ${M} | ${r.msPerStep.toFixed(2)} | ${r.machineStepsPerSec.toFixed(0)} | ${r.nfePerAdvance.toFixed(1)} |`,
    );
  }
  if (!existsSync(CMAPSS)) {
    console.log(`\nC-MAPSS training epoch: skipped (${CMAPSS} not found)`);
    return;
  }
  const hidden = (h: number) => ({ hiddenDim: h, odeHidden: [h], headHidden: [h] });
  const before = rulEpochBench({ ...RUL_TRAIN_SETTINGS, span: undefined, averageDecay: undefined, model: hidden(32) });
  const noAverage = rulEpochBench({ ...RUL_TRAIN_SETTINGS, averageDecay: undefined });
  const shipped = rulEpochBench(RUL_TRAIN_SETTINGS);
  console.log('\nC-MAPSS RUL training epoch (20 steps x 128 windows of 30 readings, + validation; min of epochs 2-4):');
  console.log('| settings | s per epoch | ratio to hidden 32 without averaging |');
  console.log('|---|---|---|');
  for (const [name, s] of [
    ['hidden 32, no averaging, last 30 readings (before session 7)', before],
    ['hidden 64, no averaging', noAverage],
    ['hidden 64, averaging 0.99, 60-cycle span (shipped)', shipped],
  ] as const)
    console.log(`| ${name} | ${s.toFixed(2)} | ${(s / before).toFixed(2)} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
