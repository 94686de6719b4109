import * as tf from '@tensorflow/tfjs';
import { fusedFlatConcat } from '../backend/lin-comb';
import { OdeError } from '../errors';
import { runIntegration, type OdeintOptions, type TensorField } from '../odeint';
import type { Rhs } from '../solver';
import type { SolverStats } from '../stats';
import { isStiffMethod, type ImplicitMethodName, type StiffOdeintOptions } from '../stiff/odeint-stiff';
import { AugmentedOps, type AdjointNorm } from './augmented-ops';
import { stiffSegmentRunner } from './backward-stiff';
import { startVjp, type ActiveVjp, type FieldVjp } from './field-vjp';
import type { Checkpoint } from './strategies';

/** Settings of the backward (adjoint) solve. */
export interface BackwardConfig {
  /** Method, step options of the backward solve (passed to the same method-by-name path as `odeint`). */
  solve: OdeintOptions<tf.Tensor[]>;
  rtol: number;
  atol: number | ArrayLike<number>;
  norm: AdjointNorm;
  gradTimes: boolean;
  /** Options of an implicit backward method (`solve.method` one of the stiff methods): Jacobian, Newton, autonomy. */
  implicit?: StiffOdeintOptions<tf.Tensor>;
}

/** Integrates [z, a, a_θ] from `fromT` (z = fromY) to `toT`; returns the end a and a_θ (owned by the caller). */
export type SegmentRunner = (
  fromT: number,
  fromY: tf.Tensor,
  a: tf.Tensor,
  aParams: tf.Tensor[],
  toT: number,
  toY: tf.Tensor,
  firstStep: number | undefined,
) => { a: tf.Tensor; aParams: tf.Tensor[]; nextStep: number };

/** Inputs of {@link adjointBackward}. */
export interface BackwardInputs {
  f: TensorField;
  ts: readonly number[];
  /** Forward states at `ts`, [T, ...shape]. */
  ys: tf.Tensor;
  checkpoints: readonly Checkpoint[];
  /** Incoming gradient dL/dys, [T, ...shape]. */
  dys: tf.Tensor;
  params: readonly tf.Tensor[];
  /** Counters of the backward solve, accumulated in place. */
  stats: SolverStats;
  /** Hand-written VJP of f (default: TensorFlow.js autodiff). */
  vjp?: FieldVjp;
}

/** Gradients produced by {@link adjointBackward} (tensors owned by the caller). */
export interface BackwardResult {
  y0: tf.Tensor;
  params: tf.Tensor[];
  /** dL/dts, [T] (zeros unless `gradTimes`). */
  ts: tf.Tensor;
}

/**
 * The augmented adjoint dynamics (Pontryagin; Chen et al. 2018, Appendix B), in forward time:
 *
 *   dz/dt = f(t, z),   da/dt = −aᵀ ∂f/∂z,   da_θ/dt = −aᵀ ∂f/∂θ,
 *
 * integrated backwards. One TensorFlow.js gradient computation with cotangent −a yields f and both
 * vector–Jacobian products from a single evaluation of f.
 */
function augmentedRhs(active: ActiveVjp, params: readonly tf.Tensor[], counter: { nfe: number }): Rhs<tf.Tensor[]> {
  return (t, s) => {
    const z = s[0];
    const a = s[1];
    const tt = tf.scalar(t);
    const { value, grads } = active.run(tt, z, tf.neg(a));
    if (!tf.util.arraysEqual(value.shape, z.shape))
      throw new OdeError(
        'bad_arguments',
        `Shape mismatch: the vector field returned shape [${value.shape}] for a state of shape [${z.shape}]`,
      );
    counter.nfe++;
    // A field returning its input unchanged would alias z; the loop disposes stages independently.
    const out = [value === z ? tf.clone(value) : value, grads[0]];
    // The parameter adjoints travel as one flat channel: each Runge–Kutta combination and error norm
    // then costs a few kernels instead of a few per parameter tensor.
    if (params.length > 0) {
      const gs = grads.slice(1);
      out.push(fusedFlatConcat(gs) ?? tf.concat(gs.map((g) => tf.reshape(g, [-1]))));
    }
    return out;
  };
}

export function accumulate(into: SolverStats, s: SolverStats): void {
  into.nfe += s.nfe;
  into.steps += s.steps;
  into.accepted += s.accepted;
  into.rejected += s.rejected;
  into.njev += s.njev;
  into.nlu += s.nlu;
  if (!Number.isNaN(s.errorEstimate)) into.errorEstimate = Math.max(into.errorEstimate, s.errorEstimate);
}

/** ⟨u, f(t, y)⟩ summed over every entry, as a scalar tensor. */
function dotField(f: TensorField, t: number, y: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(f(tf.scalar(t), y), u)));
}

/**
 * Backward pass of the adjoint method (as torchdiffeq's `odeint_adjoint`): starting from the last
 * output time with a = dL/dy(t_N) and a_θ = 0, integrates [z, a, a_θ] backwards to each earlier
 * restart point; at a checkpoint or output time z is reset to the stored forward state, and at an
 * output time t_i the incoming gradient dL/dy(t_i) is added to a. At t_0, a is dL/dy0 and a_θ is
 * dL/dθ. Memory: the current augmented state and one step's stages, whatever the number of steps.
 *
 * Time gradients need no extra channel: y(t_i) moves with t_i at rate f, so dL/dt_i (i ≥ 1) is
 * ⟨dL/dy(t_i), f(t_i, y_i)⟩, and by the flow identity ∂Φ(t; t_0, y_0)/∂t_0 = −∂Φ/∂y_0 · f(t_0, y_0),
 * dL/dt_0 = −⟨a(t_0), f(t_0, y_0)⟩ with a(t_0) before adding dL/dy(t_0). This equals torchdiffeq's
 * integrated a_t channel and costs one evaluation of f per output time.
 */
export function adjointBackward(inp: BackwardInputs, cfg: BackwardConfig): BackwardResult {
  const { f, ts, params, stats } = inp;
  const T = ts.length;
  const ys = tf.unstack(inp.ys);
  const dys = tf.unstack(inp.dys);
  const timeGrads = new Float32Array(T);
  const shape = ys[0].shape;
  const counter = { nfe: 0 };
  const active = startVjp(f, params, inp.vjp);
  let ops: AugmentedOps | null = null;
  let runSegment: SegmentRunner;
  if (isStiffMethod(cfg.solve.method)) {
    runSegment = stiffSegmentRunner({
      f,
      active,
      params,
      shape,
      method: cfg.solve.method as ImplicitMethodName | 'auto',
      rtol: cfg.rtol,
      atol: cfg.atol,
      norm: cfg.norm,
      maxSteps: cfg.solve.maxSteps ?? 10_000,
      maxStep: cfg.solve.maxStep ?? Infinity,
      implicit: cfg.implicit ?? {},
      stats,
      counter,
    });
  } else {
    const augOps = new AugmentedOps(shape, { batchedChannels: 2, rtol: cfg.rtol, atol: cfg.atol, norm: cfg.norm });
    ops = augOps;
    const rhs = augmentedRhs(active, params, counter);
    runSegment = (fromT, fromY, a0, p0, toT, _toY, firstStep) => {
      const r = runIntegration(augOps, rhs, [fromY, a0, ...p0], [fromT, toT], { ...cfg.solve, firstStep });
      accumulate(stats, { ...r.stats, nfe: 0 });
      augOps.dispose(r.ys[0]);
      const [zEnd, aEnd, ...pEnd] = r.ys[1];
      zEnd.dispose(); // replaced by the stored forward state
      return { a: aEnd, aParams: pEnd, nextStep: r.nextStep };
    };
  }

  // Restart points in backward order: output times (with their index) and checkpoints.
  type Stop = { t: number; y: tf.Tensor; out: number };
  const stops: Stop[] = ts.map((t, i) => ({ t, y: ys[i], out: i }));
  for (const c of inp.checkpoints) stops.push({ t: c.t, y: c.y, out: -1 });
  const dir = T > 1 ? Math.sign(ts[T - 1] - ts[0]) : 1;
  stops.sort((p, q) => dir * (q.t - p.t));

  let a: tf.Tensor = tf.clone(dys[T - 1]);
  const sizes = params.map((p) => p.size);
  let aParams: tf.Tensor[] = params.length > 0 ? [tf.zeros([sizes.reduce((n, k) => n + k, 0)])] : [];
  let firstStep: number | undefined = cfg.solve.firstStep;
  try {
    if (cfg.gradTimes && T > 1) {
      timeGrads[T - 1] = dotField(f, ts[T - 1], ys[T - 1], dys[T - 1]).dataSync()[0];
      counter.nfe++;
    }
    for (let k = 0; k + 1 < stops.length; k++) {
      const from = stops[k];
      const to = stops[k + 1];
      if (to.t === from.t) continue;
      const r = runSegment(from.t, from.y, a, aParams, to.t, to.y, firstStep);
      a.dispose();
      aParams.forEach((p) => p.dispose());
      a = r.a;
      aParams = r.aParams;
      if (r.nextStep !== 0) firstStep = Math.abs(r.nextStep);
      if (to.out >= 0) {
        const i = to.out;
        if (cfg.gradTimes && i > 0) timeGrads[i] = dotField(f, ts[i], ys[i], dys[i]).dataSync()[0];
        if (cfg.gradTimes && i === 0) timeGrads[0] = -dotField(f, ts[0], ys[0], a).dataSync()[0];
        if (cfg.gradTimes) counter.nfe++;
        const next = tf.add(a, dys[i]);
        a.dispose();
        a = next;
      }
    }
    const gParams =
      params.length > 0 ? tf.tidy(() => tf.split(aParams[0], sizes).map((g, i) => tf.reshape(g, params[i].shape))) : [];
    aParams.forEach((p) => p.dispose());
    aParams = [];
    return { y0: a, params: gParams, ts: tf.tensor1d(timeGrads) };
  } catch (e) {
    a.dispose();
    aParams.forEach((p) => p.dispose());
    throw e;
  } finally {
    stats.nfe += counter.nfe;
    ys.forEach((y) => y.dispose());
    dys.forEach((d) => d.dispose());
    ops?.release();
    active.release();
  }
}
