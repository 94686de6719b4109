/**
 * `npm run bench:training-memory` — issue 10's memory acceptance, measured at full length: one
 * training step (loss + gradient of every weight) of the MLP field that
 * apps/training/src/engine/memory.spec.ts uses (B = 512, d = 16, hidden 64, tanh, rk4 with step
 * 0.01), over a history long enough that backprop through the solver needs more than 1 GiB of
 * tensors, with the adjoint and with backprop. Peak = the most live tensor bytes above the start,
 * sampled at every evaluation of the field (`tf.profile` overflows the stack on histories this
 * long); the process's RSS is printed beside it. The spec measures the slope at 10-30 steps in CI;
 * this runs the whole history.
 *
 * BENCH_MEMORY_STEPS (default 1500) sets the history; CONTINUUM_TF_BACKEND the backend (default
 * wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, type TensorField } from '@continuum/ode';
import { NeuralVectorField, ParamStore, Rng, solveAt } from '@continuum/neural';

const B = 512;
const D = 16;
const STEP = 0.01;
const MiB = 2 ** 20;

async function step(steps: number, gradient: 'adjoint' | 'backprop') {
  const store = new ParamStore(new Rng(1));
  const field = new NeuralVectorField(store.scope('f'), { dim: D, hidden: [64], activation: 'tanh' });
  const vars = store.list();
  const y0 = tf.randomNormal([B, D], 0, 1, 'float32', 3);
  const t0 = performance.now();
  // Live tensor bytes above the start, sampled at every evaluation of the field (forward and, for
  // the adjoint, inside each vector-Jacobian product), as bench:adjoint does.
  const base = tf.memory().numBytes;
  let peak = 0;
  const f: TensorField = (t, y) => {
    peak = Math.max(peak, tf.memory().numBytes - base);
    return field.apply(t, y);
  };
  const { grads, value } = tf.variableGrads(() => {
    const ys = solveAt(f, y0, [0, steps * STEP], vars, { method: 'rk4', stepSize: STEP, gradient });
    return tf.mean(tf.square(ys)) as tf.Scalar;
  }, vars);
  peak = Math.max(peak, tf.memory().numBytes - base);
  const loss = value.dataSync()[0];
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  const seconds = (performance.now() - t0) / 1000;
  y0.dispose();
  store.dispose();
  return { peak, seconds, loss, rss: process.memoryUsage().rss };
}

async function main() {
  const backend = await initTensorBackend();
  const steps = Number(process.env.BENCH_MEMORY_STEPS ?? 1500);
  console.log(
    `bench:training-memory — B ${B}, d ${D}, hidden 64, rk4 step ${STEP}, ${steps} steps; backend ${backend}`,
  );
  const peaks: Record<string, number> = {};
  for (const gradient of ['adjoint', 'backprop'] as const) {
    const r = await step(steps, gradient);
    peaks[gradient] = r.peak;
    console.log(
      `${gradient.padEnd(8)} peak tensors ${(r.peak / MiB).toFixed(1)} MiB, process RSS after ${(r.rss / MiB).toFixed(0)} MiB, ` +
        `${r.seconds.toFixed(1)} s, loss ${r.loss.toPrecision(6)}`,
    );
  }
  console.log(
    `adjoint / backprop peak: ${(peaks.adjoint / peaks.backprop).toFixed(4)}; ` +
      `backprop over 1 GiB: ${peaks.backprop > 1024 * MiB ? 'yes' : 'no'}; adjoint under 300 MiB: ${peaks.adjoint < 300 * MiB ? 'yes' : 'no'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
