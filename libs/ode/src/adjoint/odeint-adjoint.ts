import * as tf from '@tensorflow/tfjs';
import { checkArgument } from '../errors';
import { checkTimes, resolveParts, type OdeintOptions, type TensorField } from '../odeint';
import { emptyStats, type SolverStats } from '../stats';
import { isStiffMethod } from '../stiff/odeint-stiff';
import type { AdjointNorm } from './augmented-ops';
import { adjointBackward } from './backward';
import { forwardJacobian } from './backward-stiff';
import { checkFieldVjp, type FieldVjp, type TensorFieldWithVjp } from './field-vjp';
import { CheckpointAdjoint, resolveStrategy, type AdjointStrategy } from './strategies';

/** Options of {@link odeintAdjoint}: the forward solve's options plus the adjoint's. */
export interface OdeintAdjointOptions extends Omit<OdeintOptions<tf.Tensor>, 'events'> {
  /**
   * Adjoint strategy: 'backsolve' (default; re-integrate the state backwards, memory independent of
   * the number of steps), 'checkpoint' (restart the backward solve from states stored at the forward
   * pass's accepted steps; see `checkpoints`), or an {@link AdjointStrategy} object.
   */
  adjoint?: 'backsolve' | 'checkpoint' | AdjointStrategy;
  /** With `adjoint: 'checkpoint'`: store at most this many states, spread evenly in time (default: every accepted step). */
  checkpoints?: number;
  /**
   * Method of the backward solve (default: the forward `method`), looked up by name like `method`.
   * An implicit method ('radau5', 'kvaerno3', 'kvaerno5', 'rodas4', or 'auto') integrates the adjoint
   * of a stiff system with a Jacobian built from the forward Jacobian (`jacobian` if given, else
   * autodiff): blocks [[J, 0], [0, −Jᵀ]] per sample, the parameter adjoints as decoupled quadrature
   * channels. radau5 is the recommended choice (see `backward-stiff.ts` for rodas4's caveat).
   */
  adjointMethod?: OdeintOptions<tf.Tensor>['method'];
  /**
   * Hand-written vector–Jacobian product of f (default: `f.vjp` if the field carries one, else
   * TensorFlow.js autodiff of f). A function `(t, y, v) => { value?, dy, dParams }` returning vᵀ∂f/∂y
   * and vᵀ∂f/∂θ for each of `params` (in order, summed over the batch; `value` = f(t, y) if it was
   * computed on the way), or an object whose `prepare()` is called once per backward pass and returns
   * such a function (and an optional `release`), e.g. with the weights transposed once per pass.
   * Much faster than autodiff on the WASM backend (no tape; no transposed-operand matMul kernels).
   */
  vjp?: FieldVjp;
  /** Relative tolerance of the backward solve (default: the forward `rtol`). */
  adjointRtol?: number;
  /** Absolute tolerance of the backward solve (default: the forward `atol`). */
  adjointAtol?: number | ArrayLike<number>;
  /**
   * Error norm of the backward solve: 'mixed' (default: largest of the norms of z, a and a_θ, as
   * torchdiffeq) or 'seminorm' (a_θ left out; Kidger, Chen & Lyons 2021), which takes fewer backward
   * steps for the same gradient accuracy in z and a.
   */
  adjointNorm?: AdjointNorm;
  /** Constant step of the backward solve (for fixed-step methods; default: the forward `stepSize`). */
  adjointStepSize?: number;
  /** Largest number of step attempts of each backward segment (default: the forward `maxSteps`, else 10,000). */
  adjointMaxSteps?: number;
  /** Also compute dL/dts (requires `ts` to be a tensor). Default false: the gradient of `ts` is zero. */
  gradTimes?: boolean;
}

/** Work counters of an adjoint solve: the forward solve's at the top level, the backward solve's under `backward`. */
export interface AdjointStats extends SolverStats {
  /** The forward solve's counters (the same values as the top-level fields). */
  readonly forward: SolverStats;
  /**
   * The backward solve's counters, summed over its segments and over every gradient computed from
   * this solve; zero until a gradient is computed. `nfe` counts evaluations of f with its
   * vector–Jacobian product, plus one plain evaluation per output time when `gradTimes` is set.
   */
  readonly backward: SolverStats;
  /** Number of gradient computations (backward passes) run from this solve so far. */
  backwardPasses: number;
}

/** Result of {@link odeintAdjoint}. */
export interface AdjointSolution {
  /** States at `ts`, [ts.length, ...y0.shape]; differentiable with respect to y0, params and (with `gradTimes`) ts. */
  ys: tf.Tensor;
  stats: AdjointStats;
}

/**
 * Solves y' = f(t, y), y(ts[0]) = y0 like the tensor path of `odeint`, and makes `ys` differentiable
 * with TensorFlow.js's own machinery (`tf.grads`, `tf.variableGrads`, optimizers' `minimize`) by the
 * adjoint sensitivity method (Pontryagin et al. 1962; Chen, Rubanova, Bettencourt & Duvenaud, "Neural
 * ordinary differential equations", NeurIPS 2018): the gradient is computed by integrating the adjoint
 * state a(t) = dL/dy(t) and the parameter adjoint a_θ backwards in time, with vector–Jacobian
 * products of `f` from TensorFlow.js autodiff, instead of backpropagating through the solver's
 * operations. With the default 'backsolve' strategy the memory of the gradient does not grow with the
 * number of solver steps (torchdiffeq's `odeint_adjoint`).
 *
 * `ys` is a custom-gradient op (`tf.customGrad`) of y0, the `params` and (if a tensor) `ts`: the
 * forward solve is not recorded on the gradient tape; the backward pass stops at every output time to
 * add that time's incoming gradient.
 *
 * Limitations: no events; no higher-order gradients (the backward pass is not itself differentiable);
 * gradients are float32, their accuracy set by `adjointRtol`/`adjointAtol` and the forward tolerances.
 *
 * @param f vector field f(t: scalar tensor, y [B, d]) → [B, d]; it may read the tensors in `params`
 *   by closure (the usual way: tf.Variables of a model)
 * @param y0 initial state at ts[0], any float tensor of rank ≥ 1 ([B, d] for a batch)
 * @param ts output times, strictly monotonic: numbers, or a 1-D tensor (needed for `gradTimes`)
 * @param params every tensor `f` depends on that needs a gradient (tf.Variables, usually). A trainable
 *   variable that `f` reads but that is missing here would silently get no gradient.
 * @param options forward solve options as `odeint` (method, rtol, atol, ...), plus the adjoint's; see
 *   {@link OdeintAdjointOptions}
 * @returns `ys` [ts.length, ...y0.shape] and work statistics (the backward counters fill in when a
 *   gradient is computed)
 * @throws OdeError 'bad_arguments' for invalid params, times, shapes or options; the forward solve's
 *   failures as `odeint`; the backward solve's failures (step size underflow, too many steps) when
 *   the gradient is computed
 */
export function odeintAdjoint(
  f: TensorField,
  y0: tf.Tensor,
  ts: ArrayLike<number> | tf.Tensor,
  params: readonly tf.Tensor[],
  options: OdeintAdjointOptions = {},
): AdjointSolution {
  checkArgument(typeof f === 'function', '`f` must be a function f(t, y) returning a tensor of the state shape');
  checkArgument(
    y0 instanceof tf.Tensor && !y0.isDisposed,
    '`y0` must be a live tf.Tensor (the tensor path); use `odeint` for Float64Array states',
  );
  checkArgument(y0.rank >= 1, `The state must have rank ≥ 1 ([B, d] for a batch), got shape [${y0.shape}]`);
  checkArgument(y0.dtype === 'float32', `\`y0\` must be float32 to be differentiable, got ${y0.dtype}`);
  checkParams(params, y0);
  const tsTensor = ts instanceof tf.Tensor ? ts : null;
  if (tsTensor !== null) {
    checkArgument(!tsTensor.isDisposed, '`ts` is a disposed tensor');
    checkArgument(tsTensor.rank === 1, `\`ts\` must be a 1-D tensor, got shape [${tsTensor.shape}]`);
    checkArgument(tsTensor.dtype === 'float32', `\`ts\` must be a float32 tensor, got ${tsTensor.dtype}`);
  }
  const times = checkTimes(tsTensor !== null ? tsTensor.dataSync() : (ts as ArrayLike<number>));
  const gradTimes = options.gradTimes ?? false;
  checkArgument(
    !gradTimes || tsTensor !== null,
    '`gradTimes: true` needs `ts` as a 1-D float32 tensor (tf.tensor1d(ts)) to receive its gradient',
  );
  checkArgument(
    !('events' in options) || (options as { events?: unknown }).events === undefined,
    'odeintAdjoint does not support events: the gradient of an event time is not implemented; use `odeint` for event location',
  );
  const norm = options.adjointNorm ?? 'mixed';
  checkArgument(
    norm === 'mixed' || norm === 'seminorm',
    `Unknown adjointNorm '${String(norm)}'; expected 'mixed' or 'seminorm'`,
  );
  const strategy = resolveStrategy(options.adjoint, options.checkpoints);
  const forwardOptions: OdeintOptions<tf.Tensor> = { ...options };
  for (const key of [
    'adjoint',
    'checkpoints',
    'adjointMethod',
    'adjointRtol',
    'adjointAtol',
    'adjointNorm',
    'adjointStepSize',
    'adjointMaxSteps',
    'gradTimes',
    'vjp',
  ])
    delete (forwardOptions as Record<string, unknown>)[key];
  const backwardSolve: OdeintOptions<tf.Tensor[]> = {
    method: options.adjointMethod ?? options.method,
    stepSize: options.adjointStepSize ?? options.stepSize,
    maxSteps: options.adjointMaxSteps ?? options.maxSteps,
    maxStep: options.maxStep,
  };
  const fieldVjp =
    checkFieldVjp(options.vjp, '`options.vjp`') ?? checkFieldVjp((f as TensorFieldWithVjp).vjp, '`f.vjp`');
  const implicitBackward = isStiffMethod(backwardSolve.method);
  // Fail now, not in the middle of backpropagation, on an unknown backward method or bad step.
  if (!implicitBackward) resolveParts({ method: backwardSolve.method, stepSize: backwardSolve.stepSize });
  else {
    checkArgument(
      y0.rank === 1 || y0.rank === 2,
      `An implicit adjointMethod ('${backwardSolve.method}') takes a state [B, d] (or [d]), got shape [${y0.shape}]`,
    );
    checkArgument(
      backwardSolve.stepSize === undefined,
      `\`adjointStepSize\` does not apply to the implicit adjointMethod '${backwardSolve.method}'`,
    );
  }
  if (isStiffMethod(options.method)) {
    checkArgument(
      !(strategy instanceof CheckpointAdjoint),
      `The 'checkpoint' adjoint records explicit Runge–Kutta steps; use 'backsolve' with the implicit method '${options.method}'`,
    );
    // The forward solve runs inside the custom gradient, possibly under the caller's gradient tape:
    // the stiff path's default tf.grad Jacobian would clobber that tape, so use the isolated one.
    if (forwardOptions.jacobian === undefined) {
      const shape = y0.shape;
      const B = y0.rank === 2 ? shape[0] : 1;
      const d = shape[shape.length - 1];
      forwardOptions.jacobian = (t, y) => {
        const J = forwardJacobian(f, undefined, null, t.dataSync()[0], y, B, d);
        return tf.tensor3d(Float32Array.from(J), [B, d, d]);
      };
    }
  }
  const backwardTol = {
    rtol: options.adjointRtol ?? options.rtol ?? 1e-5,
    atol: options.adjointAtol ?? options.atol ?? 1e-6,
  };

  const backward = emptyStats(true);
  let stats: AdjointStats | undefined;
  const inputs: tf.Tensor[] = [y0, ...params, ...(tsTensor !== null ? [tsTensor] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as (tensors: tf.Tensor[]) => void;
    const fwd = strategy.forward(f, y0, times, forwardOptions);
    stats = { ...fwd.stats, forward: fwd.stats, backward, backwardPasses: 0 };
    const checkpointTimes = fwd.checkpoints.map((c) => c.t);
    // The engine copies saved tensors only when a gradient tape is recording; they live until backprop.
    save([fwd.ys, ...fwd.checkpoints.map((c) => c.y)]);
    fwd.checkpoints.forEach((c) => c.y.dispose());
    const solveStats = stats;
    return {
      value: fwd.ys,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const dys = Array.isArray(dy) ? dy[0] : dy;
        const [ysSaved, ...cps] = saved;
        const g = adjointBackward(
          {
            f,
            ts: times,
            ys: ysSaved,
            checkpoints: cps.map((y, i) => ({ t: checkpointTimes[i], y })),
            dys,
            params,
            stats: backward,
            vjp: fieldVjp,
          },
          {
            solve: backwardSolve,
            ...backwardTol,
            norm,
            gradTimes,
            implicit: {
              jacobian: options.jacobian,
              newton: options.newton,
              autonomous: options.autonomous,
              autoImplicit: options.autoImplicit,
              stiffnessTest: options.stiffnessTest,
            },
          },
        );
        solveStats.backwardPasses++;
        return [g.y0, ...g.params, ...(tsTensor !== null ? [g.ts] : [])];
      },
    };
  });
  const ys = (op as (...xs: tf.Tensor[]) => tf.Tensor)(...inputs);
  return { ys, stats: stats as AdjointStats };
}

function checkParams(params: readonly tf.Tensor[], y0: tf.Tensor): void {
  checkArgument(
    Array.isArray(params),
    '`params` must be an array of the tf.Variables the vector field reads (pass [] if it has none)',
  );
  const seen = new Set<number>();
  params.forEach((p, i) => {
    checkArgument(
      p instanceof tf.Tensor,
      `params[${i}] is ${p === null ? 'null' : typeof p}, not a tf.Variable: pass the tf.Variables (or tensors) the vector field reads`,
    );
    checkArgument(
      !p.isDisposed,
      `params[${i}] (${p instanceof tf.Variable ? `variable '${p.name}'` : 'tensor'}) has been disposed`,
    );
    checkArgument(
      p.dtype === 'float32',
      `params[${i}] has dtype ${p.dtype}; only float32 parameters can receive gradients (cast it, or leave it out of params)`,
    );
    checkArgument(!seen.has(p.id), `params[${i}] appears twice in \`params\`; list each variable once`);
    checkArgument(p !== y0, `params[${i}] is y0 itself; y0 already receives its gradient, leave it out of params`);
    seen.add(p.id);
  });
}
