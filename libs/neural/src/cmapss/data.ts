import * as fs from 'node:fs';
import type { Normalisation } from '../serialize';
import type { Rng } from '../random';

/** Column names of a C-MAPSS row after unit and cycle: 3 operational settings, 21 sensors. */
export const CMAPSS_COLUMNS = [
  'setting1',
  'setting2',
  'setting3',
  ...Array.from({ length: 21 }, (_, i) => `s${i + 1}`),
];

/** One engine's trajectory: its cycles and rows of the 24 columns. */
export interface Engine {
  unit: number;
  cycles: number[];
  /** [n, 24] row-major. */
  rows: Float64Array;
}

/**
 * Reads a C-MAPSS file (Saxena, Goebel, Simon & Eklund, "Damage propagation modeling for aircraft
 * engine run-to-failure simulation", PHM 2008): whitespace-separated rows of unit, cycle, 3 settings,
 * 21 sensors. Returns the engines in unit order.
 */
export function readCmapss(file: string): Engine[] {
  const text = fs.readFileSync(file, 'utf8');
  const byUnit = new Map<number, { cycles: number[]; rows: number[] }>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 26) continue;
    const nums = parts.slice(0, 26).map(Number);
    if (nums.some((v) => !Number.isFinite(v))) throw new Error(`${file}: unparsable row '${line.slice(0, 60)}'`);
    const e = byUnit.get(nums[0]) ?? { cycles: [], rows: [] };
    e.cycles.push(nums[1]);
    e.rows.push(...nums.slice(2));
    byUnit.set(nums[0], e);
  }
  if (byUnit.size === 0) throw new Error(`${file}: no C-MAPSS rows found`);
  return [...byUnit.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([unit, e]) => ({ unit, cycles: e.cycles, rows: Float64Array.from(e.rows) }));
}

/**
 * Feature selection and z-score statistics from training engines: operational settings are dropped
 * (FD001 has a single operating condition) and so is every sensor with fewer than 3 distinct values
 * (constant sensors: s1, s5, s6, s10, s16, s18, s19 on FD001).
 */
export function fitNormalisation(engines: Engine[], rulCap: number): Normalisation {
  const C = CMAPSS_COLUMNS.length;
  const features: string[] = [];
  const offset: number[] = [];
  const scale: number[] = [];
  const columns: number[] = [];
  for (let c = 3; c < C; c++) {
    const values: number[] = [];
    for (const e of engines) for (let i = 0; i < e.cycles.length; i++) values.push(e.rows[i * C + c]);
    if (new Set(values).size < 3) continue;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    features.push(CMAPSS_COLUMNS[c]);
    columns.push(c);
    offset.push(mean);
    scale.push(std);
  }
  return {
    features,
    offset,
    scale,
    columns,
    rulCap,
    timeScale: 100,
    dropped: CMAPSS_COLUMNS.filter((_, c) => !columns.includes(c)),
  };
}

/** An engine's normalised readings: times (cycle / timeScale) and values [n, F] plus a cycle channel. */
export interface Prepared {
  unit: number;
  cycles: number[];
  times: number[];
  values: Float32Array;
  /** Features per reading (selected sensors + the normalised cycle count). */
  F: number;
}

/** Applies the normalisation; appends the cycle count / 200 as a last channel (the engine's age). */
export function prepare(engine: Engine, norm: Normalisation): Prepared {
  const cols = norm.columns as number[];
  const C = CMAPSS_COLUMNS.length;
  const n = engine.cycles.length;
  const F = cols.length + 1;
  const values = new Float32Array(n * F);
  for (let i = 0; i < n; i++) {
    cols.forEach((c, k) => {
      values[i * F + k] = (engine.rows[i * C + c] - norm.offset[k]) / norm.scale[k];
    });
    values[i * F + cols.length] = engine.cycles[i] / 200;
  }
  const ts = norm.timeScale as number;
  return { unit: engine.unit, cycles: engine.cycles, times: engine.cycles.map((c) => c / ts), values, F };
}

/** Removes `fraction` of the readings up to index `end` (inclusive) at random, always keeping `end`. */
export function dropReadings(n: number, fraction: number, rng: Rng): number[] {
  const keep = Array.from({ length: n }, (_, i) => i);
  if (fraction <= 0 || n <= 1) return keep;
  const candidates = keep.slice(0, n - 1);
  rng.shuffle(candidates);
  const removed = new Set(candidates.slice(0, Math.min(Math.round(fraction * n), n - 1)));
  return keep.filter((i) => !removed.has(i));
}

/** Piecewise-linear RUL target: min(cap, cycles left). */
export function rulTarget(totalCycles: number, cycle: number, cap: number): number {
  return Math.min(cap, totalCycles - cycle);
}

/** PHM08 scoring function: Σ exp(−d/13) − 1 for early (d < 0), exp(d/10) − 1 for late predictions, d = pred − true. */
export function phm08Score(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - truth[i];
    s += d < 0 ? Math.exp(-d / 13) - 1 : Math.exp(d / 10) - 1;
  }
  return s;
}

/** Root-mean-square error. */
export function rmse(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - truth[i]) ** 2;
  return Math.sqrt(s / pred.length);
}
