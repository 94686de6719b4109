/**
 * `npm run bench:neural` — libs/neural (issue 6).
 *
 * 1. Latent ODE training step on the spiral task (Chen et al. 2018 sizes: 4-d latent, 25-unit
 *    recognition ODE-RNN, 20-unit dynamics and decoder; batch 40 spirals, 30 irregular observations
 *    each): wall time of loss + gradient + Adam-free update, and NFE forward / backward, with gradients
 *    by `odeintAdjoint` (seminorm) against backprop through `odeint` (dopri5, rtol 1e-3, atol 1e-4).
 * 2. Online filter `advance + update + predict` throughput for 1, 100 and 10,000 machines (ODE-RNN,
 *    14 sensors, hidden 32, dopri5 between readings, warm-started, half the sensors reporting).
 *
 * Backend: WASM (CONTINUUM_TF_BACKEND overrides). Minimum of the repeats; absolute times are noisy on
 * a shared machine.
 */
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { OdeRnnModel, OnlineFilter, Rng, unionSeries } from '@continuum/neural';
import { makeSpirals, observed, paperLatentOde } from '../libs/neural/experiments/spirals';

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
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
