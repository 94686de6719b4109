/**
 * Latent ODE training step on the spiral task (the setup of `npm run bench:neural`: paper sizes, batch
 * 40 spirals, 30 irregular observations, dopri5 rtol 1e-3 atol 1e-4) with the adjoint's backward pass
 * through the field's hand-written VJP ('analytic', the default since models pass
 * `NeuralVectorField.adjointVjp`) and through `tf.grads` ('autodiff'), and with backprop through the
 * solver; loss + gradient, minimum of `--repeats` (default 3), all in one run so the ratios share the
 * machine's load.
 *
 *   node -r @swc-node/register libs/neural/experiments/bench-adjoint-vjp.ts [--repeats 3]
 */
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { LatentOde, unionSeries, type SolverConfig } from '@continuum/neural';
import { makeSpirals, observed } from './spirals';

function model(solver: SolverConfig): LatentOde {
  // paperLatentOde's configuration with the solver varied.
  return new LatentOde({
    obsDim: 2,
    latentDim: 4,
    recHidden: 25,
    recOdeHidden: [25],
    dynHidden: [20],
    decoderHidden: [20],
    activation: 'elu',
    obsStd: 0.3,
    solver,
    seed: 3,
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const repeats = argv.includes('--repeats') ? Number(argv[argv.indexOf('--repeats') + 1]) : 3;
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const seq = unionSeries(makeSpirals(40, 5).map(observed), 2);
  const base = { method: 'dopri5', rtol: 1e-3, atol: 1e-4 };
  const cases: [string, SolverConfig][] = [
    ['adjoint, hand-written VJP', { ...base, gradient: 'adjoint', fieldVjp: 'analytic' }],
    ['adjoint, autodiff VJP', { ...base, gradient: 'adjoint', fieldVjp: 'autodiff' }],
    ['backprop through odeint', { ...base, gradient: 'backprop' }],
  ];
  console.log('| gradient | step (ms, min) | NFE forward | NFE backward |');
  console.log('|---|---|---|---|');
  for (const [name, solver] of cases) {
    const m = model(solver);
    const times: number[] = [];
    let nfe = { forward: 0, backward: null as number | null };
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => m.loss(seq, seq).loss, m.variables());
      value.dataSync();
      times.push(performance.now() - t0);
      nfe = m.nfe.take();
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    }
    m.dispose();
    console.log(`| ${name} | ${Math.min(...times).toFixed(0)} | ${nfe.forward} | ${nfe.backward ?? '—'} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
