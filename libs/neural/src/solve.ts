import * as tf from '@tensorflow/tfjs';
import {
  odeint,
  odeintAdjoint,
  type AdjointStats,
  type FieldVjp,
  type FieldVjpFn,
  type FieldVjpResult,
  type OdeintAdjointOptions,
  type OdeintOptions,
  type TensorField,
} from '@continuum/ode';

/**
 * How gradients flow through a solve: 'adjoint' (default) — `odeintAdjoint`, the adjoint sensitivity
 * method of Chen et al. 2018, memory independent of the number of steps; 'backprop' — through the
 * operations of `odeint` (exact gradient of the discretisation, faster for few steps).
 */
export type GradientMode = 'adjoint' | 'backprop';

/** Solver settings of a model's neural ODE (serialisable). */
export interface SolverConfig {
  /** Any `odeint` method name, stiff ones included (default 'dopri5'). */
  method?: string;
  rtol?: number;
  atol?: number;
  /** Constant step (fixed-step methods take one step per output interval without it). */
  stepSize?: number;
  maxSteps?: number;
  /** Gradient strategy (default 'adjoint'). */
  gradient?: GradientMode;
  /** Adjoint norm ('seminorm' by default: Kidger, Chen & Lyons 2021). */
  adjointNorm?: 'mixed' | 'seminorm';
  /**
   * Vector–Jacobian products of the adjoint's backward pass: 'analytic' (default) uses the hand-written
   * VJP a model passes to {@link solveAt} (its `NeuralVectorField.adjointVjp`), 'autodiff' ignores it
   * and lets `odeintAdjoint` differentiate the field with `tf.grads` (same gradient to float32
   * round-off; kept as a switch for checks and fields without a VJP).
   */
  fieldVjp?: 'analytic' | 'autodiff';
}

/**
 * Counts function evaluations of a model's solves ("effective depth"): forward NFE as the solves run,
 * backward NFE of the adjoint solves once their gradient has been computed ({@link collect}).
 * Backprop through the solver has no backward NFE of its own (it replays the forward operations), so
 * `backward` stays 0 for it and `backwardKnown` says whether any adjoint solve contributed.
 */
export class NfeCounter {
  forward = 0;
  backward = 0;
  backwardKnown = false;
  private pending: AdjointStats[] = [];
  private retained: tf.Tensor[] = [];

  /**
   * Keeps constant tensors that an adjoint solve's vector field closes over alive until the gradient
   * has been computed (the forward scope would dispose them before the backward solve re-evaluates
   * the field); they are disposed by the next {@link take}.
   */
  retain(...tensors: tf.Tensor[]): void {
    tensors.forEach((t) => this.retained.push(tf.keep(t)));
  }

  /** Adds a forward solve. */
  addForward(nfe: number): void {
    this.forward += nfe;
  }

  /** Registers an adjoint solve whose backward counters fill in when its gradient is computed. */
  track(stats: AdjointStats): void {
    this.forward += stats.forward.nfe;
    this.pending.push(stats);
  }

  /** Folds the backward counters of the tracked adjoint solves in (call after the gradient). */
  collect(): void {
    for (const s of this.pending) {
      this.backward += s.backward.nfe;
      this.backwardKnown = true;
    }
    this.pending = [];
  }

  /** Returns and clears the counts. */
  take(): { forward: number; backward: number | null } {
    this.collect();
    const r = { forward: this.forward, backward: this.backwardKnown ? this.backward : null };
    this.forward = 0;
    this.backward = 0;
    this.backwardKnown = false;
    this.retained.forEach((t) => t.dispose());
    this.retained = [];
    return r;
  }
}

function odeOptions(cfg: SolverConfig): OdeintOptions<tf.Tensor> {
  const o: Record<string, unknown> = {};
  if (cfg.method !== undefined) o.method = cfg.method;
  if (cfg.rtol !== undefined) o.rtol = cfg.rtol;
  if (cfg.atol !== undefined) o.atol = cfg.atol;
  if (cfg.stepSize !== undefined) o.stepSize = cfg.stepSize;
  if (cfg.maxSteps !== undefined) o.maxSteps = cfg.maxSteps;
  return o as OdeintOptions<tf.Tensor>;
}

/**
 * Solves y' = f(t, y) from y0 at ts[0] to every time in `ts` with gradients by the configured
 * strategy.
 *
 * @param f vector field f(t scalar, y [B, d])
 * @param y0 [B, d]
 * @param ts strictly monotonic output times
 * @param params the variables `f` reads (the adjoint needs them listed)
 * @param cfg solver and gradient settings
 * @param counter receives the NFE
 * @param vjp hand-written vector–Jacobian product of f for the adjoint's backward pass, e.g.
 *   `NeuralVectorField.adjointVjp(params)` (default: `f.vjp`, else autodiff of f); ignored when
 *   `cfg.fieldVjp` is 'autodiff' and by backprop
 * @returns ys [ts.length, B, d]
 */
export function solveAt(
  f: TensorField,
  y0: tf.Tensor,
  ts: number[],
  params: tf.Variable[],
  cfg: SolverConfig,
  counter?: NfeCounter,
  vjp?: FieldVjp,
): tf.Tensor {
  if ((cfg.gradient ?? 'adjoint') === 'adjoint') {
    const useVjp = vjp !== undefined && (cfg.fieldVjp ?? 'analytic') === 'analytic';
    const opts: OdeintAdjointOptions = {
      ...odeOptions(cfg),
      adjointNorm: cfg.adjointNorm ?? 'seminorm',
      ...(useVjp ? { vjp } : {}),
    };
    const r = odeintAdjoint(f, y0, ts, params, opts);
    counter?.track(r.stats);
    return r.ys;
  }
  const r = odeint(f, y0, ts, odeOptions(cfg));
  counter?.addForward(r.stats.nfe);
  return r.ys;
}

/** A vector field that sees each sample's own time: f(t [B, 1], y [B, d]). */
export type BatchField = (t: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/**
 * Advances sample i of a batch from t0[i] to t1[i] in one solve, differentiably (the change of
 * variables t = t0 + s (t1 − t0), s ∈ [0, 1], of `odeintIntervals`, written over `odeint` /
 * `odeintAdjoint` so that either gradient strategy applies). Samples with t1 = t0 are unchanged.
 *
 * @param vjp hand-written VJP of `f` (t [B, 1]) for the adjoint, e.g. `NeuralVectorField.adjointVjp(params)`;
 *   composed here with the change of variables (see {@link rescaledVjp})
 * @returns the states at t1, [B, d]
 */
export function solveIntervals(
  f: BatchField,
  y0: tf.Tensor,
  t0: ArrayLike<number>,
  t1: ArrayLike<number>,
  params: tf.Variable[],
  cfg: SolverConfig,
  counter?: NfeCounter,
  vjp?: FieldVjp,
): tf.Tensor {
  const B = y0.shape[0];
  const span = Float32Array.from({ length: B }, (_, i) => t1[i] - t0[i]);
  if (span.every((v) => v === 0)) return tf.clone(y0);
  const startT = tf.tensor2d(Float32Array.from(t0), [B, 1]);
  const spanT = tf.tensor2d(span, [B, 1]);
  const fs: TensorField = (s, z) => tf.mul(f(tf.add(startT, tf.mul(spanT, s)), z), spanT);
  const ys = solveAt(fs, y0, [0, 1], params, cfg, counter, vjp && rescaledVjp(vjp, startT, spanT));
  const y = tf.squeeze(tf.slice(ys, [1, 0, 0], [1, -1, -1]), [0]);
  ys.dispose();
  if ((cfg.gradient ?? 'adjoint') === 'adjoint') {
    // The backward solve re-evaluates fs: keep its constants until the gradient is done.
    if (counter) counter.retain(startT, spanT);
    else {
      tf.keep(startT);
      tf.keep(spanT);
    }
  } else {
    startT.dispose();
    spanT.dispose();
  }
  return y;
}

/** The per-pass product of a {@link FieldVjp} (a plain function or a prepared one). */
function prepareVjp(vjp: FieldVjp): { vjp: FieldVjpFn; release?: () => void } {
  return typeof vjp === 'function' ? { vjp } : vjp.prepare();
}

/**
 * VJP of the time-rescaled field g(s, z) = f(t0 + s·Δ, z)·Δ of {@link solveIntervals} from a VJP of f:
 * vᵀ∂g/∂z = (v·Δ)ᵀ∂f/∂z and vᵀ∂g/∂θ = (v·Δ)ᵀ∂f/∂θ (Δ is a constant [B, 1] column, so it scales the
 * cotangent row-wise), and g = f·Δ.
 */
export function rescaledVjp(vjp: FieldVjp, startT: tf.Tensor, spanT: tf.Tensor): FieldVjp {
  return {
    prepare: () => {
      const inner = prepareVjp(vjp);
      return {
        vjp: (s, z, v) =>
          tf.tidy(() => {
            const r = inner.vjp(tf.add(startT, tf.mul(spanT, s)), z, tf.mul(v, spanT));
            if (!r.value) return { dy: r.dy, dParams: r.dParams };
            return { value: tf.mul(r.value, spanT), dy: r.dy, dParams: r.dParams };
          }) as FieldVjpResult,
        release: inner.release,
      };
    },
  };
}
