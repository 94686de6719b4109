import * as tf from '@tensorflow/tfjs';
import { checkArgument, OdeError } from '../errors';
import type { TensorField } from '../odeint';
import type { SolverStats } from '../stats';
import { Dopri5Detector } from '../stiff/auto';
import { PredictiveController } from '../stiff/controller';
import { integrateStiff } from '../stiff/integrate-stiff';
import { makeStepper, type ImplicitMethodName, type StiffOdeintOptions } from '../stiff/odeint-stiff';
import type { StepAttempt, StepFailure, StiffStepper } from '../stiff/stepper';
import { emptyStiffStats, StiffSystem, type FlatJacobian } from '../stiff/system';
import type { AdjointNorm } from './augmented-ops';
import type { SegmentRunner } from './backward';
import type { ActiveVjp } from './field-vjp';
import { vjp as autodiffVjp } from './vjp';

/** Inputs of {@link stiffSegmentRunner}. */
export interface StiffBackwardConfig {
  f: TensorField;
  active: ActiveVjp;
  params: readonly tf.Tensor[];
  /** State shape, [B, d] or [d]. */
  shape: readonly number[];
  method: ImplicitMethodName | 'auto';
  rtol: number;
  atol: number | ArrayLike<number>;
  norm: AdjointNorm;
  maxSteps: number;
  maxStep: number;
  /** The forward solve's implicit options: `jacobian` (∂f/∂y, [B, d, d]), `newton`, `autonomous`, 'auto' settings. */
  implicit: StiffOdeintOptions<tf.Tensor>;
  /** Backward counters (steps, njev, nlu... accumulated here; nfe through `counter`). */
  stats: SolverStats;
  counter: { nfe: number };
}

/**
 * Forward Jacobian blocks ∂f_b/∂y_b ([B, d, d] row-major, float64) at (t, z): the user's `jacobian`, or
 * d vector–Jacobian products with the unit cotangents e_i (row i of every block at once, the samples
 * being independent) through the hand-written VJP or autodiff. Autodiff goes through the isolated-tape
 * helper: this runs in the middle of the caller's backpropagation, where a plain `tf.grad` would
 * destroy the outer tape.
 */
export function forwardJacobian(
  f: TensorField,
  user: StiffOdeintOptions<tf.Tensor>['jacobian'],
  active: ActiveVjp | null,
  t: number,
  z: tf.Tensor,
  B: number,
  d: number,
): Float64Array {
  tf.engine().startScope();
  try {
    const tt = tf.scalar(t);
    if (user) {
      const J = user(tt, z);
      checkArgument(J.size === B * d * d, `The Jacobian must have shape [${B}, ${d}, ${d}], got [${J.shape}]`);
      return Float64Array.from(J.dataSync());
    }
    const J = new Float64Array(B * d * d);
    const eye = tf.oneHot(tf.range(0, d, 1, 'int32'), d).arraySync() as number[][];
    for (let i = 0; i < d; i++) {
      const v = tf.reshape(tf.tile(tf.tensor2d([eye[i]]), [B, 1]), z.shape);
      const row =
        active && active.kind === 'analytic'
          ? active.run(tt, z, v).grads[0]
          : autodiffVjp(() => f(tt, z), [z], v).grads[0];
      const g = row.dataSync();
      for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) J[b * d * d + i * d + j] = g[b * d + j];
    }
    return J;
  } finally {
    tf.engine().endScope();
  }
}

/** A StiffStepper decorator that keeps the dense output of every accepted step (the forward re-solve). */
class DenseRecorder implements StiffStepper {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  readonly newton?: StiffStepper['newton'];
  /** Accepted steps in integration order: [t0, t1] and the step's continuous extension. */
  readonly steps: { t0: number; t1: number; dense: (t: number) => Float64Array }[] = [];
  private t = NaN;

  constructor(private readonly inner: StiffStepper) {
    this.name = inner.name;
    this.order = inner.order;
    this.errorOrder = inner.errorOrder;
    this.newton = inner.newton;
  }

  start(sys: StiffSystem, t: number, y: Float64Array, f: Float64Array): void {
    this.t = t;
    this.inner.start(sys, t, y, f);
  }

  attempt(t: number, y: Float64Array, f: Float64Array, h: number, retry: boolean): StepAttempt | StepFailure {
    return this.inner.attempt(t, y, f, h, retry);
  }

  accepted(t1: number, y1: Float64Array, f1: Float64Array, attempt: StepAttempt, h: number): void {
    this.steps.push({ t0: this.t, t1, dense: attempt.dense });
    this.t = t1;
    this.inner.accepted(t1, y1, f1, attempt, h);
  }

  stiffness(h: number): number {
    return this.inner.stiffness?.(h) ?? NaN;
  }

  /** z(t) from the step that contains t (t within the recorded span). */
  at(t: number): Float64Array {
    const s = this.steps;
    let lo = 0;
    let hi = s.length - 1;
    const inc = s[0].t1 > s[0].t0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (inc ? s[mid].t1 < t : s[mid].t1 > t) lo = mid + 1;
      else hi = mid;
    }
    return s[lo].dense(t);
  }
}

/**
 * The backward solve with an implicit method (issue 5: the adjoint of a stiff system is stiff too).
 *
 * Re-integrating the state z backwards alongside the adjoint (the 'backsolve' way) is ill-posed for a
 * stiff system: the fast decaying modes of z grow like e^{|λ|(T − t)} backwards (1e4 per 1e-3 time for
 * λ = −1e4), and any round-off explodes. So on each interval between output times, z is recomputed
 * *forwards* from the stored output state with the implicit method (interpolated adjoint, as CVODES's
 * checkpointing: memory is the dense output of one interval's steps, not of the whole solve), and only
 * [a, a_θ] is integrated backwards — stable, and stiff: a' = −J(z(t))ᵀ a.
 *
 * The adjoint state is laid out for the stiff integrator as B independent samples a_b (d entries each)
 * followed by the parameter adjoints a_θ as trailing decoupled channels. Its Jacobian is built from the
 * forward Jacobian J = ∂f/∂z (the user's `jacobian`, or d vector–Jacobian products), one evaluation
 * per Jacobian refresh instead of finite differences of the augmented system: ∂(da/dt)/∂a = −Jᵀ
 * (exact: the adjoint equation is linear in a), and the a_θ rows (pure quadratures: nothing depends on
 * a_θ) are left out of the Newton matrix. radau5 / kvaerno3 / kvaerno5 then solve their stage
 * equations exactly (the a_θ stages follow one Newton iteration after a). rodas4 builds its stages
 * from the Jacobian itself, so its a_θ channel is integrated as by a W-method (consistent and
 * error-controlled with `adjointNorm: 'mixed'`, lower order): prefer radau5.
 */
export function stiffSegmentRunner(cfg: StiffBackwardConfig): SegmentRunner {
  const { shape, params, active, counter, stats } = cfg;
  checkArgument(
    shape.length === 1 || shape.length === 2,
    `An implicit adjointMethod takes a tensor state [B, d] (or [d]), got shape [${shape}]`,
  );
  const B = shape.length === 2 ? shape[0] : 1;
  const d = shape[shape.length - 1];
  const n = B * d;
  const P = params.reduce((k, p) => k + p.size, 0);
  const atolArr = typeof cfg.atol === 'number' ? null : Array.from(cfg.atol);
  if (atolArr)
    checkArgument(atolArr.length === d, `adjointAtol has ${atolArr.length} components but the state has ${d}`);
  const tailAtol = atolArr ? Math.min(...atolArr) : (cfg.atol as number);
  const toTensor = (x: Float64Array, offset = 0) =>
    tf.tensor(Float32Array.from(x.subarray(offset, offset + n)), shape as number[]);
  const parts = { newton: cfg.implicit.newton, autonomous: cfg.implicit.autonomous };
  const implicitMethod: ImplicitMethodName =
    cfg.method === 'auto' ? (cfg.implicit.autoImplicit ?? 'radau5') : cfg.method;

  // Forward field and Jacobian of z (float64 state, float32 evaluations), for the re-solve.
  const zField = (t: number, z: Float64Array): Float64Array => {
    tf.engine().startScope();
    try {
      const out = cfg.f(tf.scalar(t), toTensor(z));
      counter.nfe++;
      return Float64Array.from(out.dataSync());
    } finally {
      tf.engine().endScope();
    }
  };
  const zJacobian: FlatJacobian = (t, z) => {
    tf.engine().startScope();
    try {
      return forwardJacobian(cfg.f, cfg.implicit.jacobian, active, t, toTensor(z), B, d);
    } finally {
      tf.engine().endScope();
    }
  };

  return (fromT, _fromY, a0, p0, toT, toY, firstStep) => {
    const fstats = emptyStiffStats();
    const sstats = emptyStiffStats();
    try {
      // 1. z on the interval, forwards from the stored (earlier) state at toT, keeping the dense output.
      const zsys = new StiffSystem(B, d, zField, cfg.rtol, atolArr ?? (cfg.atol as number), zJacobian, fstats);
      const recorder = new DenseRecorder(makeStepper(implicitMethod, parts));
      integrateStiff({
        sys: zsys,
        y0: Float64Array.from(toY.dataSync()),
        ts: [toT, fromT],
        stepper: recorder,
        controller: new PredictiveController(),
        maxSteps: cfg.maxSteps,
        maxStep: cfg.maxStep,
      });

      // 2. [a, a_θ] backwards from fromT to toT with z(t) from the recorded dense output.
      const field = (t: number, x: Float64Array): Float64Array => {
        tf.engine().startScope();
        try {
          const z = toTensor(recorder.at(t));
          const { value, grads } = active.run(tf.scalar(t), z, tf.neg(toTensor(x)));
          if (!tf.util.arraysEqual(value.shape, z.shape))
            throw new OdeError(
              'bad_arguments',
              `Shape mismatch: the vector field returned shape [${value.shape}] for a state of shape [${z.shape}]`,
            );
          counter.nfe++;
          const out = new Float64Array(n + P);
          out.set(grads[0].dataSync(), 0);
          let o = n;
          for (let k = 1; k < grads.length; k++) {
            out.set(grads[k].dataSync(), o);
            o += grads[k].size;
          }
          return out;
        } finally {
          tf.engine().endScope();
        }
      };
      const jacobian: FlatJacobian = (t) => {
        const J = zJacobian(t, recorder.at(t), new Float64Array(0));
        // Block b: ∂(−J_bᵀ a_b)/∂a_b = −J_bᵀ.
        const A = new Float64Array(B * d * d);
        for (let b = 0; b < B; b++)
          for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A[b * d * d + i * d + j] = -J[b * d * d + j * d + i];
        return A;
      };
      const sys = new StiffSystem(B, d, field, cfg.rtol, atolArr ?? (cfg.atol as number), jacobian, sstats, {
        size: P,
        atol: tailAtol,
        inNorm: cfg.norm === 'mixed',
      });
      const x0 = new Float64Array(n + P);
      x0.set(a0.dataSync(), 0);
      if (P > 0) x0.set(p0[0].dataSync(), n);
      const common = {
        sys,
        y0: x0,
        ts: [fromT, toT],
        controller: new PredictiveController(),
        firstStep,
        maxSteps: cfg.maxSteps,
        maxStep: cfg.maxStep,
      };
      const r =
        cfg.method === 'auto'
          ? integrateStiff({
              ...common,
              switching: {
                explicit: new Dopri5Detector(cfg.implicit.stiffnessTest),
                implicit: makeStepper(implicitMethod, parts),
              },
            })
          : integrateStiff({ ...common, stepper: makeStepper(cfg.method, parts) });
      const x1 = r.ys[r.ys.length - 1];
      const aParams = P > 0 ? [tf.tensor1d(Float32Array.from(x1.subarray(n)))] : [];
      return { a: toTensor(x1), aParams, nextStep: r.nextStep };
    } finally {
      for (const s of [fstats, sstats]) {
        stats.steps += s.steps;
        stats.accepted += s.accepted;
        stats.rejected += s.rejected;
        stats.njev += s.njev;
        stats.nlu += s.nlu;
      }
      if (Number.isFinite(sstats.errorEstimate))
        stats.errorEstimate = Math.max(stats.errorEstimate, sstats.errorEstimate);
    }
  };
}
