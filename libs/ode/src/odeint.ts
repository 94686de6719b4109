import * as tf from '@tensorflow/tfjs';
import type { ArrayOps } from './backend/array-ops';
import { Float64Ops } from './backend/float64-ops';
import { TensorOps } from './backend/tensor-ops';
import { ConstantStepSize, PIController, type StepSizeController } from './controller';
import { checkArgument, OdeError } from './errors';
import type { EventSpec, OdeEvent } from './events';
import { integrate, type IntegrateResult } from './integrate';
import { ExplicitRungeKutta, type OdeSolver, type Rhs } from './solver';
import type { SolverStats } from './stats';
import { type MethodName, TABLEAUX } from './tableaux';
import {
  isStiffMethod,
  odeintStiffFloat64,
  odeintStiffTensor,
  type ImplicitOptions,
  type StiffMethodName,
} from './stiff/odeint-stiff';

/** Vector field of the float64 path. Must not modify `y`; may return a new array or a plain number array. */
export type Float64Field = (t: number, y: Float64Array) => Float64Array | number[];
/** Vector field of the tensor path: `t` is a scalar tensor, `y` and the result have the state's shape [B, d]. */
export type TensorField = (t: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/** Options of {@link odeint}. `Y` is the state type (Float64Array or tf.Tensor). */
export interface OdeintOptions<Y> extends ImplicitOptions<Y> {
  /**
   * Method (default 'dopri5'): an explicit Runge–Kutta method, an implicit one for stiff problems
   * ('kvaerno3', 'kvaerno5', 'rodas4', 'radau5') or 'auto' (dopri5 switching to radau5 on stiffness);
   * ignored when `solver` is given.
   */
  method?: MethodName | StiffMethodName;
  /** Relative tolerance (default 1e-6 for float64, 1e-5 for tensors). */
  rtol?: number;
  /** Absolute tolerance, a number or one per state component (default 1e-9 for float64, 1e-6 for tensors). */
  atol?: number | ArrayLike<number>;
  /** Magnitude of the first step (default: Hairer's automatic initial step). Warm-start with a previous `nextStep`. */
  firstStep?: number;
  /** Largest number of step attempts, accepted or rejected (default 10,000). */
  maxSteps?: number;
  /** Largest step magnitude (default unbounded). */
  maxStep?: number;
  /**
   * Constant step magnitude: integrate with fixed steps (required for 'euler', 'midpoint', 'rk4' unless
   * you want one step per output interval, which is what they do without it).
   */
  stepSize?: number;
  /** Event functions; zero crossings are located on the dense output. */
  events?: readonly EventSpec<Y>[];
  /** Advanced: a solver object instead of `method`. */
  solver?: OdeSolver;
  /** Advanced: a controller object instead of the default PI controller / constant step. */
  controller?: StepSizeController;
}

/** Result of {@link odeint}. */
export interface OdeSolution<Ys, Y> {
  /** Output times reached: all of `ts`, or those up to a terminal event. */
  ts: number[];
  /** States at `ts`: one Float64Array per time (float64) or one tensor [ts.length, ...shape] (tensor). */
  ys: Ys;
  stats: SolverStats;
  /** Events found, in order of occurrence. */
  events: OdeEvent<Y>[];
  /** True when a terminal event stopped the integration. */
  terminated: boolean;
  /** Signed size of the last accepted step. */
  lastStep: number;
  /** Signed step size the controller proposes next (pass its magnitude as `firstStep` to resume). */
  nextStep: number;
}

/** Validates output times: finite, strictly monotonic. */
export function checkTimes(ts: ArrayLike<number>): number[] {
  const arr = Array.from(ts);
  checkArgument(arr.length >= 1, '`ts` must contain at least the initial time');
  checkArgument(
    arr.every((t) => Number.isFinite(t)),
    '`ts` must contain only finite numbers',
  );
  if (arr.length > 1) {
    const dir = Math.sign(arr[1] - arr[0]);
    for (let i = 1; i < arr.length; i++)
      checkArgument(
        dir !== 0 && Math.sign(arr[i] - arr[i - 1]) === dir,
        `\`ts\` must be strictly increasing or strictly decreasing; ts[${i - 1}]=${arr[i - 1]}, ts[${i}]=${arr[i]}`,
      );
  }
  return arr;
}

/** Builds the solver and controller named by the options (the convenience layer over the parts). */
export function resolveParts<Y>(options: OdeintOptions<Y>): { solver: OdeSolver; controller: StepSizeController } {
  const method = options.method ?? 'dopri5';
  const tableau = isStiffMethod(method) ? undefined : TABLEAUX[method];
  checkArgument(
    options.solver !== undefined || tableau !== undefined,
    isStiffMethod(method)
      ? `The implicit method '${method}' runs through \`odeint\` (float64 or tensor state), not on a generic ArrayOps loop`
      : `Unknown method '${method}'; expected one of ${Object.keys(TABLEAUX).join(', ')}, kvaerno3, kvaerno5, rodas4, radau5, auto`,
  );
  const solver = options.solver ?? new ExplicitRungeKutta(tableau as NonNullable<typeof tableau>);
  if (options.stepSize !== undefined)
    checkArgument(
      Number.isFinite(options.stepSize) && options.stepSize > 0,
      `\`stepSize\` must be a positive number, got ${options.stepSize}`,
    );
  const controller =
    options.controller ??
    (options.stepSize !== undefined || solver.errorOrder === undefined
      ? new ConstantStepSize(options.stepSize)
      : new PIController());
  return { solver, controller };
}

function checkCommon<Y>(options: OdeintOptions<Y>, rtol: number): void {
  checkArgument(Number.isFinite(rtol) && rtol >= 0, `\`rtol\` must be a non-negative number, got ${rtol}`);
  if (options.firstStep !== undefined)
    checkArgument(
      options.firstStep !== 0 && Number.isFinite(options.firstStep),
      '`firstStep` must be non-zero and finite',
    );
  if (options.maxStep !== undefined) checkArgument(options.maxStep > 0, '`maxStep` must be positive');
  if (options.maxSteps !== undefined) checkArgument(options.maxSteps >= 1, '`maxSteps` must be at least 1');
}

/** Runs the shared loop with the parts picked from `options`. */
export function runIntegration<A>(
  ops: ArrayOps<A>,
  rhs: Rhs<A>,
  y0: A,
  ts: number[],
  options: OdeintOptions<A>,
): IntegrateResult<A> {
  const { solver, controller } = resolveParts(options);
  return integrate({
    ops,
    rhs,
    y0,
    ts,
    solver,
    controller,
    firstStep: options.firstStep,
    maxSteps: options.maxSteps ?? 10_000,
    maxStep: options.maxStep ?? Infinity,
    events: options.events,
  });
}

/**
 * Solves the initial value problem y' = f(t, y), y(ts[0]) = y0 and returns y at every time in `ts`
 * (torchdiffeq's `odeint`, built from diffrax-style parts: a Runge–Kutta solver from a validated
 * tableau, a PI step-size controller, dense output and event location).
 *
 * - Float64 path: `y0` a `Float64Array` or number array, `f(t: number, y: Float64Array)`; `ys` is one
 *   `Float64Array` per output time.
 * - Tensor path (TensorFlow.js, float32): `y0` a tensor [B, d], `f(t: tf.Tensor (scalar), y)`; `ys` is
 *   a tensor [ts.length, B, d]. The step size is shared by the batch; the error norm is the largest
 *   per-sample norm. Call {@link initTensorBackend} first to pick the fastest backend.
 *
 * Adaptive methods (bosh3, dopri5 — Dormand & Prince 1980 —, tsit5 — Tsitouras 2011) control the
 * local error with the scaled RMS norm of Hairer, Nørsett & Wanner (I, II.4), a PI controller and
 * Hairer's automatic initial step; outputs between steps come from each method's dense output
 * (Shampine 1986 for dopri5). Fixed-step methods (euler, midpoint, rk4, or any method with
 * `stepSize`) take constant steps.
 *
 * @param f vector field
 * @param y0 initial state at `ts[0]`
 * @param ts output times, strictly increasing or strictly decreasing (backward integration)
 * @param options method, tolerances, step limits, events; see {@link OdeintOptions}
 * @returns output times, states, work statistics and events
 * @throws OdeError with reason 'bad_arguments', 'step_size_underflow', 'too_many_steps' or 'non_finite_state'
 */
export function odeint(
  f: Float64Field,
  y0: Float64Array | readonly number[],
  ts: ArrayLike<number>,
  options?: OdeintOptions<Float64Array>,
): OdeSolution<Float64Array[], Float64Array>;
export function odeint(
  f: TensorField,
  y0: tf.Tensor,
  ts: ArrayLike<number>,
  options?: OdeintOptions<tf.Tensor>,
): OdeSolution<tf.Tensor, tf.Tensor>;
export function odeint(
  f: Float64Field | TensorField,
  y0: Float64Array | readonly number[] | tf.Tensor,
  ts: ArrayLike<number>,
  options: OdeintOptions<any> = {},
): OdeSolution<Float64Array[] | tf.Tensor, Float64Array | tf.Tensor> {
  const times = checkTimes(ts);
  if (options.solver === undefined && isStiffMethod(options.method)) {
    const rtol = options.rtol ?? (y0 instanceof tf.Tensor ? 1e-5 : 1e-6);
    checkCommon(options, rtol);
    if (y0 instanceof tf.Tensor)
      return odeintStiffTensor(f as TensorField, y0, times, options as OdeintOptions<tf.Tensor>);
    return odeintStiffFloat64(f as Float64Field, y0, times, options as OdeintOptions<Float64Array>);
  }
  if (y0 instanceof tf.Tensor) return odeintTensor(f as TensorField, y0, times, options);
  return odeintFloat64(f as Float64Field, y0, times, options);
}

function odeintFloat64(
  f: Float64Field,
  y0In: Float64Array | readonly number[],
  ts: number[],
  options: OdeintOptions<Float64Array>,
): OdeSolution<Float64Array[], Float64Array> {
  const rtol = options.rtol ?? 1e-6;
  checkCommon(options, rtol);
  const y0 = Float64Array.from(y0In);
  const d = y0.length;
  const ops = new Float64Ops(d, { rtol, atol: options.atol ?? 1e-9 });
  const rhs: Rhs<Float64Array> = (t, y) => {
    const out = f(t, y);
    if (out.length !== d)
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned ${out.length} components for a state of ${d}`,
      );
    // Always copy: a field that reuses its output buffer must not alias stored stages.
    return Float64Array.from(out);
  };
  const r = runIntegration(ops, rhs, y0, ts, options);
  return {
    ts: r.ts,
    ys: r.ys,
    stats: r.stats,
    events: r.events,
    terminated: r.terminated,
    lastStep: r.lastStep,
    nextStep: r.nextStep,
  };
}

function odeintTensor(
  f: TensorField,
  y0: tf.Tensor,
  ts: number[],
  options: OdeintOptions<tf.Tensor>,
): OdeSolution<tf.Tensor, tf.Tensor> {
  const rtol = options.rtol ?? 1e-5;
  checkCommon(options, rtol);
  checkArgument(y0.rank >= 1, 'The tensor state must have rank ≥ 1 ([B, d] for a batch)');
  const ops = new TensorOps(y0.shape, { rtol, atol: options.atol ?? 1e-6 });
  const rhs: Rhs<tf.Tensor> = (t, y) => {
    const out = f(tf.scalar(t), y);
    if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, y0.shape))
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned shape [${out instanceof tf.Tensor ? out.shape : typeof out}] for a state of shape [${y0.shape}]`,
      );
    return out;
  };
  const input = y0.dtype === 'float32' ? y0 : tf.cast(y0, 'float32');
  try {
    const r = runIntegration(ops, rhs, input, ts, options);
    const ys = tf.stack(r.ys);
    r.ys.forEach((y) => y.dispose());
    return {
      ts: r.ts,
      ys,
      stats: r.stats,
      events: r.events,
      terminated: r.terminated,
      lastStep: r.lastStep,
      nextStep: r.nextStep,
    };
  } finally {
    if (input !== y0) input.dispose();
    ops.release();
  }
}
