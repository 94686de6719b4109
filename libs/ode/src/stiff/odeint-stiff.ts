import * as tf from '@tensorflow/tfjs';
import { checkArgument, OdeError } from '../errors';
import type { OdeSolution } from '../odeint';
import { Dopri5Detector, type StiffnessTestOptions } from './auto';
import { PredictiveController } from './controller';
import { EsdirkStepper, KVAERNO3, KVAERNO5 } from './esdirk';
import { integrateStiff } from './integrate-stiff';
import { NewtonSolver } from './newton';
import { Radau5 } from './radau5';
import { RODAS4, RosenbrockStepper } from './rosenbrock';
import type { StiffStepper } from './stepper';
import { emptyStiffStats, StiffSystem, type FlatJacobian, type StiffStats } from './system';

/** Implicit methods and 'auto' (dopri5 with stiffness detection and switching). */
export type StiffMethodName = 'kvaerno3' | 'kvaerno5' | 'rodas4' | 'radau5' | 'auto';
/** The implicit methods (what 'auto' can switch to; what the adjoint can use as `adjointMethod`). */
export type ImplicitMethodName = Exclude<StiffMethodName, 'auto'>;

/** Every stiff method name accepted by `odeint`'s `method`. */
export const STIFF_METHODS: readonly StiffMethodName[] = ['kvaerno3', 'kvaerno5', 'rodas4', 'radau5', 'auto'];

/** Whether `method` names an implicit method or 'auto' (dispatched to the stiff integrator). */
export function isStiffMethod(method: unknown): method is StiffMethodName {
  return typeof method === 'string' && (STIFF_METHODS as readonly string[]).includes(method);
}

/** User Jacobian ∂f/∂y of the float64 path: a d×d matrix as rows or flat row-major. */
export type Float64Jacobian = (t: number, y: Float64Array) => ArrayLike<number> | readonly ArrayLike<number>[];
/** User Jacobian of the tensor path: [B, d, d], block b = ∂f_b/∂y_b. */
export type TensorJacobian = (t: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/** Options of the implicit methods (part of `OdeintOptions`; ignored by the explicit ones). */
export interface ImplicitOptions<Y> {
  /**
   * Jacobian ∂f/∂y for the implicit methods. Default: forward differences on the float64 path (as
   * SciPy), automatic differentiation (tf.grad, one backward pass per component) on the tensor path,
   * where each sample of the batch must depend on its own state only (block-diagonal Jacobian).
   */
  jacobian?: Y extends tf.Tensor ? TensorJacobian : Float64Jacobian;
  /** Nonlinear solver of kvaerno3/5 and radau5 (default: each method's own settings, see their docs). */
  newton?: NewtonSolver;
  /** f does not depend on t: rodas4 skips the ∂f/∂t difference (one evaluation per step). */
  autonomous?: boolean;
  /** The implicit method 'auto' switches to on stiffness (default 'radau5'). */
  autoImplicit?: ImplicitMethodName;
  /** Stiffness test of 'auto' (dopri5 side). */
  stiffnessTest?: StiffnessTestOptions;
}

/** Builds the stepper named `method` (not 'auto'). */
export function makeStepper(
  method: ImplicitMethodName,
  options: { newton?: NewtonSolver; autonomous?: boolean } = {},
): StiffStepper {
  switch (method) {
    case 'kvaerno3':
      // Tableau predictors only: extrapolated guesses save kvaerno3 ~10% of its evaluations but, over its
      // ~700 steps on HIRES, their Newton errors add up to a 30% larger end error (docs/benchmarks.md).
      return new EsdirkStepper(KVAERNO3, options.newton, 0);
    case 'kvaerno5':
      return new EsdirkStepper(KVAERNO5, options.newton);
    case 'rodas4':
      return new RosenbrockStepper(RODAS4, options.autonomous ?? false);
    case 'radau5':
      return new Radau5(options.newton);
  }
}

/** Options `odeint` passes down (a structural subset of `OdeintOptions`). */
export interface StiffOdeintOptions<Y> extends ImplicitOptions<Y> {
  method?: string;
  rtol?: number;
  atol?: number | ArrayLike<number>;
  firstStep?: number;
  maxSteps?: number;
  maxStep?: number;
  stepSize?: number;
  events?: readonly unknown[];
}

function run(sys: StiffSystem, y0: Float64Array, ts: number[], options: StiffOdeintOptions<unknown>) {
  const method = options.method as StiffMethodName;
  checkArgument(
    !options.events || options.events.length === 0,
    `Events are not supported with the implicit method '${method}' yet; use an explicit method (dopri5) for event location.`,
  );
  if (options.stepSize !== undefined)
    checkArgument(
      Number.isFinite(options.stepSize) && options.stepSize > 0 && method !== 'auto',
      `\`stepSize\` must be a positive number and not used with 'auto', got ${options.stepSize}`,
    );
  const parts = { newton: options.newton, autonomous: options.autonomous };
  const common = {
    sys,
    y0,
    ts,
    controller: new PredictiveController(),
    firstStep: options.firstStep,
    maxSteps: options.maxSteps ?? 10_000,
    maxStep: options.maxStep ?? Infinity,
    stepSize: options.stepSize,
  };
  if (method === 'auto')
    return integrateStiff({
      ...common,
      switching: {
        explicit: new Dopri5Detector(options.stiffnessTest),
        implicit: makeStepper(options.autoImplicit ?? 'radau5', parts),
      },
    });
  return integrateStiff({ ...common, stepper: makeStepper(method, parts) });
}

/** The float64 path of `odeint` for the stiff methods. */
export function odeintStiffFloat64(
  f: (t: number, y: Float64Array) => Float64Array | number[],
  y0In: Float64Array | readonly number[],
  ts: number[],
  options: StiffOdeintOptions<Float64Array>,
): OdeSolution<Float64Array[], Float64Array> {
  const y0 = Float64Array.from(y0In);
  const d = y0.length;
  const rtol = options.rtol ?? 1e-6;
  const atol = options.atol ?? 1e-9;
  if (typeof atol !== 'number')
    checkArgument(atol.length === d, `atol has ${atol.length} components but the state has ${d}`);
  const field = (t: number, y: Float64Array) => {
    const out = f(t, y);
    if (out.length !== d)
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned ${out.length} components for a state of ${d}`,
      );
    return Float64Array.from(out);
  };
  const userJac = options.jacobian;
  const jac: FlatJacobian | undefined = userJac
    ? (t, y) => {
        const J = userJac(t, y);
        const flat = new Float64Array(d * d);
        if (J.length === d && d > 1 && typeof J[0] !== 'number')
          (J as readonly ArrayLike<number>[]).forEach((row, i) => flat.set(Array.from(row), i * d));
        else if (J.length === d && d === 1 && typeof J[0] !== 'number')
          flat[0] = (J as readonly ArrayLike<number>[])[0][0];
        else flat.set(Array.from(J as ArrayLike<number>));
        return flat;
      }
    : undefined;
  const stats = emptyStiffStats();
  const sys = new StiffSystem(1, d, field, rtol, atol, jac, stats);
  const r = run(sys, y0, ts, options);
  return { ts: r.ts, ys: r.ys, stats, events: [], terminated: false, lastStep: r.lastStep, nextStep: r.nextStep };
}

/**
 * The tensor path of `odeint` for the stiff methods: the state [B, d] (or [d]) is integrated as B
 * independent samples with a shared step; f runs batched in TensorFlow.js (float32), the Jacobian is
 * the block diagonal [B, d, d] by automatic differentiation (or `options.jacobian`), and the Newton
 * linear algebra (B small LU factorisations with partial pivoting) runs in typed-array loops in
 * float64.
 */
export function odeintStiffTensor(
  f: (t: tf.Tensor, y: tf.Tensor) => tf.Tensor,
  y0: tf.Tensor,
  ts: number[],
  options: StiffOdeintOptions<tf.Tensor>,
): OdeSolution<tf.Tensor, tf.Tensor> {
  checkArgument(y0.rank === 1 || y0.rank === 2, 'The implicit methods take a tensor state [B, d] (or [d])');
  const shape = y0.shape.slice();
  const B = y0.rank === 2 ? shape[0] : 1;
  const d = shape[shape.length - 1];
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-6;
  if (typeof atol !== 'number')
    checkArgument(atol.length === d, `atol has ${atol.length} components but the state has ${d}`);
  const toTensor = (y: Float64Array) => tf.tensor(Float32Array.from(y), shape, 'float32');
  const field = (t: number, y: Float64Array): Float64Array =>
    scoped(() => {
      const out = f(tf.scalar(t), toTensor(y));
      if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, shape))
        throw new OdeError(
          'bad_arguments',
          `Shape mismatch: the vector field returned shape [${out instanceof tf.Tensor ? out.shape : typeof out}] for a state of shape [${shape}]`,
        );
      return Float64Array.from(out.dataSync());
    });
  const userJac = options.jacobian;
  const jac: FlatJacobian = userJac
    ? (t, y) =>
        scoped(() => {
          const J = userJac(tf.scalar(t), toTensor(y));
          checkArgument(J.size === B * d * d, `The Jacobian must have shape [${B}, ${d}, ${d}], got [${J.shape}]`);
          return Float64Array.from(J.dataSync());
        })
    : (t, y) =>
        scoped(() => {
          // Row i of every block at once: ∂(Σ_b f_b,i)/∂y = [∂f_b,i/∂y_b]_b since samples are independent.
          const yT = toTensor(y);
          const tT = tf.scalar(t);
          const J = new Float64Array(B * d * d);
          for (let i = 0; i < d; i++) {
            const g = tf.grad((yy: tf.Tensor) => tf.sum(tf.gather(tf.reshape(f(tT, yy), [B, d]), [i], 1)))(yT);
            const gd = g.dataSync();
            for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) J[b * d * d + i * d + j] = gd[b * d + j];
            g.dispose();
          }
          return J;
        });
  const stats = emptyStiffStats();
  const sys = new StiffSystem(B, d, field, rtol, atol, jac, stats);
  const y0f = Float64Array.from(y0.dataSync());
  const r = run(sys, y0f, ts, options);
  const flat = new Float32Array(r.ys.length * B * d);
  r.ys.forEach((y, k) => flat.set(y, k * B * d));
  const ys = tf.tensor(flat, [r.ys.length, ...shape], 'float32');
  return { ts: r.ts, ys, stats, events: [], terminated: false, lastStep: r.lastStep, nextStep: r.nextStep };
}

export type { StiffStats };

/** Runs `fn` in a TensorFlow.js memory scope and returns its (non-tensor) result. */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
