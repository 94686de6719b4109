import { packSeries, unionSeries, type Sequences, type Series } from '@continuum/neural';

/** One machine's readings on its own irregular clock: one row per distinct reading time, a mask per sensor. */
export interface Track {
  machineId: string;
  /** Epoch ms, increasing. */
  times: Float64Array;
  /** [n · D] raw sensor values (0 where masked). */
  values: Float32Array;
  /** [n · D] 1 where the sensor reported at that time. */
  mask: Float32Array;
}

/** Sensor statistics stored with the model: x_norm = (x − offset) / scale (the twin's convention). */
export interface SensorStats {
  features: string[];
  offset: number[];
  scale: number[];
}

/**
 * Builds tracks incrementally from readings that arrive in chunks ordered by (machine, time): rows
 * of equal time are merged into one row with a mask. Memory is the compact typed arrays only.
 */
export class TrackBuilder {
  private readonly rows = new Map<string, { times: number[]; values: number[]; mask: number[] }>();
  private readonly index: Map<string, number>;

  constructor(readonly sensors: string[]) {
    this.index = new Map(sensors.map((s, i) => [s, i]));
  }

  add(readings: readonly { machineId: string; sensor: string; time: number; value: number }[]): void {
    const D = this.sensors.length;
    for (const r of readings) {
      const d = this.index.get(r.sensor);
      if (d === undefined || !Number.isFinite(r.value)) continue;
      let t = this.rows.get(r.machineId);
      if (!t) this.rows.set(r.machineId, (t = { times: [], values: [], mask: [] }));
      const n = t.times.length;
      if (n === 0 || t.times[n - 1] !== r.time) {
        t.times.push(r.time);
        for (let k = 0; k < D; k++) {
          t.values.push(0);
          t.mask.push(0);
        }
      }
      const row = (t.times.length - 1) * D;
      t.values[row + d] = r.value;
      t.mask[row + d] = 1;
    }
  }

  /** The tracks with at least `minRows` rows, by machine id. */
  build(minRows = 2): Track[] {
    return [...this.rows.entries()]
      .filter(([, t]) => t.times.length >= minRows)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([machineId, t]) => ({
        machineId,
        times: Float64Array.from(t.times),
        values: Float32Array.from(t.values),
        mask: Float32Array.from(t.mask),
      }));
  }
}

/** Mean and standard deviation of every sensor over the tracks (scale floored so constant sensors stay finite). */
export function sensorStats(tracks: readonly Track[], sensors: string[]): SensorStats {
  const D = sensors.length;
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  const n = new Float64Array(D);
  for (const t of tracks)
    for (let i = 0; i < t.values.length; i++) {
      if (!t.mask[i]) continue;
      const d = i % D;
      sum[d] += t.values[i];
      sq[d] += t.values[i] * t.values[i];
      n[d]++;
    }
  const offset = Array.from(sum, (s, d) => (n[d] ? s / n[d] : 0));
  const scale = Array.from(sq, (s, d) => {
    const v = n[d] ? s / n[d] - offset[d] * offset[d] : 1;
    return Math.max(Math.sqrt(Math.max(v, 0)), 1e-3 * Math.max(Math.abs(offset[d]), 1));
  });
  return { features: [...sensors], offset, scale };
}

/**
 * Splits tracks into training and validation by machine (no machine in both): a deterministic
 * shuffle by `seed`, `fraction` of the machines (at least one when there are two or more) held out.
 */
export function splitByMachine(tracks: readonly Track[], fraction: number, seed: number): { train: Track[]; val: Track[] } {
  const order = tracks.map((t, i) => ({ t, key: hash(`${seed}:${t.machineId}`), i }));
  order.sort((a, b) => a.key - b.key || a.i - b.i);
  const nVal = tracks.length >= 2 && fraction > 0 ? Math.min(tracks.length - 1, Math.max(1, Math.round(fraction * tracks.length))) : 0;
  return { val: order.slice(0, nVal).map((o) => o.t), train: order.slice(nVal).map((o) => o.t) };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A window of `length` consecutive rows of a track starting at `start`, normalised, with times in
 * model units relative to the window's first reading.
 */
export function windowOf(track: Track, start: number, length: number, stats: SensorStats, timeScaleMs: number): Series {
  const D = stats.features.length;
  const n = Math.min(length, track.times.length - start);
  const t0 = track.times[start];
  const times = new Float64Array(n);
  const values = new Float32Array(n * D);
  const mask = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    times[i] = (track.times[start + i] - t0) / timeScaleMs;
    for (let d = 0; d < D; d++) {
      const k = (start + i) * D + d;
      mask[i * D + d] = track.mask[k];
      values[i * D + d] = track.mask[k] ? (track.values[k] - stats.offset[d]) / stats.scale[d] : 0;
    }
  }
  return { times, values, mask };
}

/** Draws `count` random windows (uniform machine, uniform start) with the generator `uniform` ∈ [0, 1). */
export function sampleWindows(
  tracks: readonly Track[],
  count: number,
  length: number,
  stats: SensorStats,
  timeScaleMs: number,
  uniform: () => number,
): Series[] {
  const out: Series[] = [];
  for (let b = 0; b < count; b++) {
    const track = tracks[Math.floor(uniform() * tracks.length)];
    const start = Math.floor(uniform() * Math.max(track.times.length - length + 1, 1));
    out.push(windowOf(track, start, length, stats, timeScaleMs));
  }
  return out;
}

/** Packs windows for a model kind: per-sample clocks (ODE-RNN) or a shared time axis (Latent ODE). */
export function pack(series: Series[], D: number, shared: boolean): Sequences {
  return shared ? unionSeries(series, D) : packSeries(series, D);
}
