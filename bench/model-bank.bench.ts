/**
 * `npm run bench:model-bank` — the twin's `ModelBank.step` on the host (Float64Array kernels,
 * `odeintIntervalsFloat64`) against TensorFlow.js (the baseline, measured in the same run), for rounds
 * of 1 to 1,024 machines: the figures behind `HOST_MAX_BATCH`.
 *
 * Model: the shipped centrifugal-pump twin (models/default: 5 sensors, hidden 16, field 16-64-64-16),
 * dopri5 rtol 1e-3 atol 1e-4, warm starts (DEFAULT_SOLVER). Each round advances every machine by
 * 1-30 s of readings (model time units of `timeScaleMs`), with one sensor in five missing. Per size:
 * the median of the repeats, after a warm-up; the ratio is TensorFlow.js time / host time (above 1:
 * the host is faster). Backend: WASM (CONTINUUM_TF_BACKEND overrides).
 */
import { resolve } from 'node:path';
import { initTensorBackend } from '@continuum/ode';
import { DEFAULT_SOLVER, loadTwinModelFromDirectory, ModelBank, Rng, type TwinModel } from '@continuum/neural';

const SIZES = (process.env.BENCH_SIZES ?? '1,2,4,8,12,16,32,64,256,1024').split(',').map(Number);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ms per round and NFE per round of `rounds` rounds of `M` machines. */
function run(model: TwinModel, M: number, hostMaxBatch: number, rounds: number) {
  const bank = new ModelBank(model, { ...DEFAULT_SOLVER, hostMaxBatch }, M);
  const D = model.sensors.length;
  const rng = new Rng(7);
  const slots = Int32Array.from({ length: M }, (_, m) => bank.slot(`m${m}`));
  const times = Float64Array.from({ length: M }, () => 1_700_000_000_000);
  const values = new Float64Array(M * D);
  const mask = Float32Array.from({ length: M * D }, (_, i) => (i % 5 === 4 ? 0 : 1));
  const round = () => {
    for (let m = 0; m < M; m++) times[m] += 1000 + 29_000 * rng.uniform();
    for (let i = 0; i < M * D; i++) values[i] = model.offset[i % D] + model.scale[i % D] * rng.normal();
    return bank.step({ slots, timesMs: times, values, mask }).nfe;
  };
  round();
  round(); // warm start and JIT
  const ms: number[] = [];
  let nfe = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    nfe += round();
    ms.push(performance.now() - t0);
  }
  bank.dispose();
  return { ms: median(ms), nfe: nfe / rounds };
}

async function main() {
  const backend = await initTensorBackend({ log: () => undefined });
  const model = loadTwinModelFromDirectory(
    resolve(__dirname, '../models/default/centrifugal-pump'),
    'centrifugal-pump',
  );
  console.log(`bench:model-bank — TensorFlow.js backend ${backend}; shipped centrifugal-pump twin; dopri5 rtol 1e-3`);
  console.log(
    '| machines per round | TensorFlow.js ms/round (baseline) | host ms/round | ratio (TF / host) | NFE per round (TF / host) |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  // The backend's first kernels (compilation, first shapes) would otherwise land on the first size.
  run(model, 4, 0, 5);
  for (const M of SIZES) {
    const rounds = M >= 256 ? 8 : 30;
    const tensor = run(model, M, 0, rounds);
    const host = run(model, M, Infinity, rounds);
    console.log(
      `| ${M} | ${tensor.ms.toFixed(2)} | ${host.ms.toFixed(2)} | ${(tensor.ms / host.ms).toFixed(2)} | ${tensor.nfe.toFixed(0)} / ${host.nfe.toFixed(0)} |`,
    );
  }
}

void main();
