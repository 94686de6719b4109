import * as tf from '@tensorflow/tfjs';

/**
 * A batch of irregularly sampled, partially observed multivariate sequences, time-major:
 * `values` and `mask` are [T, B, D], `times` is [T, B] (each sample's own clock, non-decreasing).
 * A step with an all-zero mask is padding or a time without readings for that sample; padding at the
 * start of a shorter sequence repeats its first time (zero-length intervals leave states unchanged).
 */
export interface Sequences {
  T: number;
  B: number;
  D: number;
  values: Float32Array;
  mask: Float32Array;
  times: Float32Array;
}

/** One sample: its own times, values [n, D] row-major and mask (default all observed). */
export interface Series {
  times: ArrayLike<number>;
  values: ArrayLike<number>;
  mask?: ArrayLike<number>;
}

/**
 * Packs series of different lengths into a {@link Sequences} batch, left-padded (the last reading of
 * every sample is at step T − 1, as an online filter sees them).
 */
export function packSeries(series: Series[], D: number): Sequences {
  const B = series.length;
  const T = Math.max(...series.map((s) => s.times.length));
  const values = new Float32Array(T * B * D);
  const mask = new Float32Array(T * B * D);
  const times = new Float32Array(T * B);
  series.forEach((s, b) => {
    const n = s.times.length;
    const pad = T - n;
    for (let i = 0; i < T; i++) {
      const k = i - pad;
      times[i * B + b] = s.times[Math.max(k, 0)];
      if (k < 0) continue;
      for (let d = 0; d < D; d++) {
        values[(i * B + b) * D + d] = s.values[k * D + d];
        mask[(i * B + b) * D + d] = s.mask ? s.mask[k * D + d] : 1;
      }
    }
  });
  return { T, B, D, values, mask, times };
}

/**
 * Packs series onto the sorted union of their times (shared time axis, as Rubanova et al. batch
 * irregular series): a sample is masked at the union times it does not have.
 */
export function unionSeries(series: Series[], D: number): Sequences & { union: number[] } {
  const all = new Set<number>();
  series.forEach((s) => Array.from(s.times).forEach((t) => all.add(Math.fround(t))));
  const union = [...all].sort((a, b) => a - b);
  const index = new Map(union.map((t, i) => [t, i]));
  const T = union.length;
  const B = series.length;
  const values = new Float32Array(T * B * D);
  const mask = new Float32Array(T * B * D);
  const times = new Float32Array(T * B);
  for (let i = 0; i < T; i++) for (let b = 0; b < B; b++) times[i * B + b] = union[i];
  series.forEach((s, b) => {
    for (let k = 0; k < s.times.length; k++) {
      const i = index.get(Math.fround(s.times[k])) as number;
      for (let d = 0; d < D; d++) {
        values[(i * B + b) * D + d] = s.values[k * D + d];
        mask[(i * B + b) * D + d] = s.mask ? s.mask[k * D + d] : 1;
      }
    }
  });
  return { T, B, D, values, mask, times, union };
}

/** Per-step tensors of a batch: `x[i]`, `m[i]` are [B, D]. The caller disposes them. */
export function stepTensors(seq: Sequences): { x: tf.Tensor[]; m: tf.Tensor[] } {
  const x = tf.unstack(tf.tensor3d(seq.values, [seq.T, seq.B, seq.D]));
  const m = tf.unstack(tf.tensor3d(seq.mask, [seq.T, seq.B, seq.D]));
  return { x, m };
}

/** The times of step i of every sample. */
export function stepTimes(seq: Sequences, i: number): Float32Array {
  return seq.times.subarray(i * seq.B, (i + 1) * seq.B);
}
