/**
 * `npm run bench:twin` — the twin's hot path (issue 9), in process: the service core
 * (TwinProcessor: batching by model, one odeintIntervals advance, one masked update and one read-out
 * per round, messages built), not the MQTT broker or the database, whose costs are measured by
 * bench:ingest and would dominate here.
 *
 * Workload: N machines (1,000 / 10,000 / 50,000), each receiving readings with exponential
 * inter-arrival times (mean 10 s of simulated time, 4 sensors, each reported with probability 0.8).
 * Readings are replayed in arrival order and cut into batches as the service does (a window of
 * simulated time, capped at 4,096 machines); a reading's latency is measured from its arrival (the
 * wall-clock moment its batch window opens plus its offset in the window) to its batch being done.
 * The model is an ODE-RNN filter with latent width d = 16 and a 16-64-64-16 vector field (the issue's
 * size), dopri5, rtol 1e-3, atol 1e-4, WASM backend.
 *
 * Printed per N: sustained updates/s, p50 / p99 latency, mean NFE per solve with and without warm
 * starts, and the unbatched baseline (the same readings one machine at a time) with the ratio.
 * The unbatched baseline replays the readings of 200 of the machines one at a time (the per-update cost
 * does not depend on the fleet size there). BENCH_TWIN_SIZES (e.g. "1000,10000"), BENCH_TWIN_SECONDS (time budget per measurement, default 20).
 */
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { DEFAULT_SOLVER, OdeRnnModel, type TwinModel, type TwinSolverSettings } from '@continuum/neural';
import { TwinProcessor, type MachineInfo, type TwinReading } from '../apps/twin/src/engine/twin-processor';

const SIZES = (process.env.BENCH_TWIN_SIZES ?? '1000,10000,50000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_TWIN_SECONDS ?? 20);
const SENSORS = ['s0', 's1', 's2', 's3'];
const MEAN_GAP_MS = 10_000;
const WINDOW_MS = 50;
const MAX_BATCH = 4096;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967298;
  };
}

function model(): TwinModel {
  return {
    id: null,
    assetType: 'bench',
    version: 'bench',
    model: new OdeRnnModel({ obsDim: SENSORS.length, hiddenDim: 16, odeHidden: [64, 64], seed: 1 }),
    sensors: SENSORS,
    offset: Float64Array.from(SENSORS, () => 50),
    scale: Float64Array.from(SENSORS, () => 10),
    timeScaleMs: 60_000,
  };
}

/** `count` readings of N machines in arrival order (exponential gaps per machine). */
function workload(N: number, count: number, seed: number): TwinReading[] {
  const u = rng(seed);
  const next = Float64Array.from({ length: N }, () => -Math.log(u()) * MEAN_GAP_MS);
  // A binary heap over machines by next arrival.
  const heap = Int32Array.from({ length: N }, (_, i) => i);
  const less = (a: number, b: number) => next[heap[a]] < next[heap[b]];
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [heap[b], heap[a]]);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < N && less(l, m)) m = l;
      if (r < N && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let i = (N >> 1) - 1; i >= 0; i--) down(i);
  const out: TwinReading[] = [];
  for (let k = 0; k < count; k++) {
    const m = heap[0];
    const t = next[m];
    const values: Record<string, number> = {};
    SENSORS.forEach((s, d) => {
      if (u() < 0.8 || d === 0) values[s] = 50 + 10 * Math.sin(t / 600_000 + m + d) + (u() - 0.5);
    });
    out.push({ machineId: `m${m}`, timeMs: 1.7e12 + t, values, receivedAtMs: t });
    next[m] = t - Math.log(u()) * MEAN_GAP_MS;
    down(0);
  }
  return out;
}

/** Cuts readings (arrival order) into batches: a window of simulated time or MAX_BATCH machines. */
function batches(readings: TwinReading[], windowMs: number): TwinReading[][] {
  const out: TwinReading[][] = [];
  let cur: TwinReading[] = [];
  let start = -Infinity;
  const seen = new Set<string>();
  for (const r of readings) {
    if (cur.length > 0 && (r.receivedAtMs - start > windowMs || (seen.size >= MAX_BATCH && !seen.has(r.machineId)))) {
      out.push(cur);
      cur = [];
      seen.clear();
    }
    if (cur.length === 0) start = r.receivedAtMs;
    cur.push(r);
    seen.add(r.machineId);
  }
  if (cur.length) out.push(cur);
  return out;
}

interface Run {
  updates: number;
  seconds: number;
  meanNfe: number;
  p50: number;
  p99: number;
  meanBatch: number;
}

function quantile(v: number[], q: number): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/**
 * Replays batches against a processor in real time: the arrival clock is compressed so that the
 * offered load matches the processor's capacity (a batch starts when the previous one is done or when
 * its window closes, whichever is later), and each reading's latency runs from its arrival.
 */
function run(proc: TwinProcessor, bs: TwinReading[][], info: (id: string) => MachineInfo, budgetS: number): Run {
  const lat: number[] = [];
  let updates = 0;
  let nfe = 0;
  let solves = 0;
  let batchSizes = 0;
  const t0 = performance.now();
  for (const b of bs) {
    // Arrival of each reading: its batch's window opens now, readings spread over the window.
    const opened = performance.now();
    const first = b[0].receivedAtMs;
    const { updates: u, stats } = proc.process(b, info);
    const done = performance.now();
    for (const r of b) lat.push(done - opened + Math.max(0, WINDOW_MS - (r.receivedAtMs - first)));
    updates += u.length;
    for (const s of stats.solves) {
      nfe += s.nfe;
      solves++;
      batchSizes += s.batch;
    }
    if ((done - t0) / 1000 > budgetS) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    updates,
    seconds,
    meanNfe: nfe / Math.max(solves, 1),
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    meanBatch: batchSizes / Math.max(solves, 1),
  };
}

async function main(): Promise<void> {
  const backend = await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' });
  const m = model();
  const info = (id: string): MachineInfo => ({ id, plantId: 'p', assetType: 'bench', thresholds: {} });
  console.log(
    `bench:twin — backend ${backend}, d=16, field 16-64-64-16, ${SENSORS.length} sensors, dopri5 rtol 1e-3, window ${WINDOW_MS} ms of arrivals / ${MAX_BATCH} machines, mean gap ${MEAN_GAP_MS / 1000} s per machine`,
  );
  const rows: string[] = [];
  for (const N of SIZES) {
    // Enough readings to warm every machine up and then measure: arrivals of the fleet per window.
    const perWindow = (N * WINDOW_MS) / MEAN_GAP_MS;
    const total = Math.max(N * 3, 60_000);
    const readings = workload(N, total, N);
    // Saturation: a batch holds what arrives while the previous one is processed. The simulated-time
    // window is sized so a batch holds about 1,000 readings (20,000 readings/s over a 50 ms window, the
    // issue's target with headroom), or N / 4 readings for small fleets (a machine rarely twice).
    const targetPerBatch = Math.min(MAX_BATCH, Math.round(20_000 * (WINDOW_MS / 1000)), Math.max(1, Math.round(N / 4)));
    const windowSim = (targetPerBatch / Math.max(perWindow, 1e-9)) * WINDOW_MS;
    const bs = batches(readings, windowSim);
    const solver = (warmStart: boolean): TwinSolverSettings => ({ ...DEFAULT_SOLVER, warmStart, maxSteps: 1000 });
    const measure = (warmStart: boolean) => {
      const proc = new TwinProcessor({ solver: solver(warmStart), maxLagMs: 3_600_000, modelFor: () => m });
      // Warm-up: every machine gets its first reading (no advance), then measure.
      const warmCount = bs.findIndex((_, i) => bs.slice(0, i + 1).reduce((n, b) => n + b.length, 0) >= N);
      run(proc, bs.slice(0, warmCount + 1), info, 120);
      const r = run(proc, bs.slice(warmCount + 1), info, SECONDS);
      proc.dispose();
      return r;
    };
    const warm = measure(true);
    const cold = measure(false);
    // Unbatched baseline: the same readings one machine at a time, for a sample of 200 machines (their
    // first readings initialise them, then every later reading is one solve of one machine).
    const proc = new TwinProcessor({ solver: solver(true), maxLagMs: 3_600_000, modelFor: () => m });
    const sample = new Set(Array.from({ length: Math.min(200, N) }, (_, i) => `m${i}`));
    const singles = readings.filter((r) => sample.has(r.machineId)).map((r) => [r]);
    run(proc, singles.slice(0, sample.size), info, 300);
    const single = run(proc, singles.slice(sample.size), info, Math.min(SECONDS, 15));
    proc.dispose();
    const ups = (r: Run) => r.updates / r.seconds;
    const line = `| ${N.toLocaleString('en-US')} | ${Math.round(ups(warm)).toLocaleString('en-US')} | ${warm.meanBatch.toFixed(0)} | ${warm.p50.toFixed(0)} / ${warm.p99.toFixed(0)} | ${warm.meanNfe.toFixed(1)} | ${cold.meanNfe.toFixed(1)} (${Math.round(ups(cold)).toLocaleString('en-US')}/s) | ${Math.round(ups(single)).toLocaleString('en-US')} | ${(ups(warm) / ups(single)).toFixed(0)}x |`;
    rows.push(line);
    console.log(
      `N=${N}: ${Math.round(ups(warm))} updates/s (batch ${warm.meanBatch.toFixed(0)}), latency p50 ${warm.p50.toFixed(0)} ms p99 ${warm.p99.toFixed(0)} ms; NFE/solve warm ${warm.meanNfe.toFixed(1)} cold ${cold.meanNfe.toFixed(1)}; unbatched ${Math.round(ups(single))} updates/s -> ${(ups(warm) / ups(single)).toFixed(1)}x; backend bytes ${tf.memory().numBytes}`,
    );
  }
  console.log(
    '\n| machines | updates/s | machines per solve | latency p50 / p99 (ms) | NFE/solve warm | NFE/solve cold (updates/s) | unbatched updates/s | batched / unbatched |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  rows.forEach((r) => console.log(r));
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
