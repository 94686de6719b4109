import * as tf from '@tensorflow/tfjs';
import { Float64Ops } from './backend/float64-ops';
import { TensorOps } from './backend/tensor-ops';
import { checkArgument, OdeError } from './errors';
import { runIntegration, type OdeintOptions } from './odeint';
import type { Rhs } from './solver';
import { emptyStats, type SolverStats } from './stats';

/** Vector field of {@link odeintIntervals}: `t` is a [B, 1] tensor holding each sample's own time. */
export type BatchTimeField = (t: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/** Options of {@link odeintIntervals} (events are not supported on rescaled time). */
export type IntervalsOptions = Omit<OdeintOptions<tf.Tensor>, 'events'>;

/** Result of {@link odeintIntervals}. */
export interface IntervalsResult {
  /** State of sample i at t1[i], shape [B, d]. */
  y: tf.Tensor;
  stats: SolverStats;
  /** Last accepted step, in rescaled time s ∈ [0, 1]. */
  lastStep: number;
  /**
   * Step the controller proposes next, in rescaled time: pass it as `firstStep` to warm-start the
   * next solve of the same batch (a resumable solve, as diffrax's `solver_state`).
   */
  nextStep: number;
}

/**
 * Advances every sample of a batch over its own interval in one batched adaptive solve: sample i goes
 * from `t0[i]` to `t1[i]` (irregular observation times, the digital twin's hot path). Time is rescaled,
 * t = t0 + s (t1 - t0) with s ∈ [0, 1], and the solver integrates dz/ds = (t1 - t0) f(t, z); every
 * sample thus shares the steps in s while `f` sees each sample's own time as a [B, 1] tensor. This is
 * the standard change of variables used for irregularly sampled latent ODEs (Rubanova, Chen &
 * Duvenaud, "Latent ODEs for irregularly-sampled time series", 2019). Zero-length intervals leave their
 * sample unchanged (its rescaled derivative is exactly 0); intervals may also run backwards.
 *
 * @param f vector field f(t [B,1], y [B,d]) → [B,d]
 * @param y0 states [B, d] at t0
 * @param t0 start time of each sample (length B)
 * @param t1 end time of each sample (length B)
 * @param options solver options as for `odeint`; `firstStep`, `maxStep` and `stepSize` are in rescaled time
 * @returns final states [B, d], work statistics and the step to warm-start the next solve with
 * @throws OdeError as `odeint`; 'bad_arguments' for mismatched lengths or shapes
 */
export function odeintIntervals(
  f: BatchTimeField,
  y0: tf.Tensor,
  t0: ArrayLike<number>,
  t1: ArrayLike<number>,
  options: IntervalsOptions = {},
): IntervalsResult {
  checkArgument(y0.rank === 2, `odeintIntervals expects states of shape [B, d], got [${y0.shape}]`);
  const B = y0.shape[0];
  checkArgument(
    t0.length === B && t1.length === B,
    `t0 and t1 must have one entry per sample: B=${B}, t0 has ${t0.length}, t1 has ${t1.length}`,
  );
  const { start, span } = rescaling(t0, t1, Float32Array);
  if (span.every((v) => v === 0)) return { y: tf.clone(y0), stats: emptyStats(true), lastStep: 0, nextStep: 0 };

  const rtol = options.rtol ?? 1e-5;
  const ops = new TensorOps(y0.shape, { rtol, atol: options.atol ?? 1e-6 });
  const startT = tf.tensor2d(start, [B, 1]);
  const spanT = tf.tensor2d(span, [B, 1]);
  const input = y0.dtype === 'float32' ? y0 : tf.cast(y0, 'float32');
  const rhs: Rhs<tf.Tensor> = (s, z) => {
    const t = tf.add(startT, tf.mul(spanT, s));
    const dz = f(t, z);
    if (!(dz instanceof tf.Tensor) || !tf.util.arraysEqual(dz.shape, y0.shape))
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned shape [${dz instanceof tf.Tensor ? dz.shape : typeof dz}] for states of shape [${y0.shape}]`,
      );
    return tf.mul(dz, spanT);
  };
  try {
    const r = runIntegration(ops, rhs, input, [0, 1], options);
    r.ys[0].dispose();
    return { y: r.ys[1], stats: r.stats, lastStep: r.lastStep, nextStep: r.nextStep };
  } finally {
    startT.dispose();
    spanT.dispose();
    if (input !== y0) input.dispose();
    ops.release();
  }
}

/** Vector field of {@link odeintIntervalsFloat64}: `t` holds each sample's own time (length B), `y` the states [B · d]. */
export type BatchTimeFieldFloat64 = (t: Float64Array, y: Float64Array) => Float64Array;

/** Result of {@link odeintIntervalsFloat64}: as {@link IntervalsResult}, the states in a `Float64Array` [B · d]. */
export interface IntervalsResultFloat64 {
  y: Float64Array;
  stats: SolverStats;
  lastStep: number;
  nextStep: number;
}

/**
 * {@link odeintIntervals} on the host, in double precision: the same rescaled solve (sample i from
 * `t0[i]` to `t1[i]`, t = t0 + s (t1 − t0), shared steps in s ∈ [0, 1], the largest per-sample error
 * norm) with states in one row-major `Float64Array` [B · d] and no per-operation overhead — for small
 * batches, where the tensor backend's cost is its per-operation bookkeeping rather than arithmetic.
 *
 * @param f vector field f(t [B], y [B · d]) → [B · d]
 * @param y0 states [B · d] at t0
 * @param d state dimension
 * @throws OdeError as `odeint`; 'bad_arguments' for mismatched lengths
 */
export function odeintIntervalsFloat64(
  f: BatchTimeFieldFloat64,
  y0: Float64Array,
  d: number,
  t0: ArrayLike<number>,
  t1: ArrayLike<number>,
  options: Omit<OdeintOptions<Float64Array>, 'events'> = {},
): IntervalsResultFloat64 {
  const B = t0.length;
  checkArgument(
    t1.length === B && y0.length === B * d,
    `odeintIntervalsFloat64 needs t0, t1 of one length B and y0 of length B·d: B=${B}, t1 has ${t1.length}, y0 has ${y0.length} (d=${d})`,
  );
  const { start, span } = rescaling(t0, t1, Float64Array);
  if (span.every((v) => v === 0)) return { y: y0.slice(), stats: emptyStats(true), lastStep: 0, nextStep: 0 };
  const ops = new Float64Ops(d, { rtol: options.rtol ?? 1e-5, atol: options.atol ?? 1e-6 }, B);
  const t = new Float64Array(B);
  const rhs: Rhs<Float64Array> = (s, z) => {
    for (let i = 0; i < B; i++) t[i] = start[i] + span[i] * s;
    const dz = f(t, z);
    if (!(dz instanceof Float64Array) || dz.length !== B * d)
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned ${dz instanceof Float64Array ? dz.length : typeof dz} values for ${B * d} states`,
      );
    const out = new Float64Array(B * d);
    for (let i = 0; i < B; i++) {
      const c = span[i];
      for (let j = i * d, e = j + d; j < e; j++) out[j] = dz[j] * c;
    }
    return out;
  };
  const r = runIntegration(ops, rhs, y0, [0, 1], options);
  return { y: r.ys[1], stats: r.stats, lastStep: r.lastStep, nextStep: r.nextStep };
}

/** Each sample's start and interval length (t1 − t0) in the backend's precision; both must be finite. */
function rescaling<A extends Float32Array | Float64Array>(
  t0: ArrayLike<number>,
  t1: ArrayLike<number>,
  Array_: { from(a: ArrayLike<number>, f?: (v: number, i: number) => number): A },
): { start: A; span: A } {
  const start = Array_.from(t0);
  const span = Array_.from(t1, (v, i) => v - t0[i]);
  checkArgument(
    Array.from(start).every(Number.isFinite) && Array.from(span).every(Number.isFinite),
    't0 and t1 must be finite',
  );
  return { start, span };
}
