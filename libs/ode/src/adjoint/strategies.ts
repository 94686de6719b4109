import * as tf from '@tensorflow/tfjs';
import type { ArrayOps } from '../backend/array-ops';
import { checkArgument } from '../errors';
import { odeint, resolveParts, type OdeintOptions, type TensorField } from '../odeint';
import type { DenseInterpolant, OdeSolver, Rhs, StepResult } from '../solver';
import type { SolverStats } from '../stats';

/** A state stored by the forward pass for the backward pass to restart from. */
export interface Checkpoint {
  readonly t: number;
  /** The state at `t` (owned by whoever holds the checkpoint list). */
  readonly y: tf.Tensor;
}

/** What the forward pass of an adjoint strategy produces. */
export interface ForwardPass {
  /** States at the output times, [ts.length, ...y0.shape]. */
  ys: tf.Tensor;
  stats: SolverStats;
  /**
   * Extra restart states strictly between the first and last output times, in forward order. The
   * backward pass resets the re-integrated state z to each of them (and to every output state).
   */
  checkpoints: Checkpoint[];
}

/**
 * How the forward pass prepares the backward pass (the adjoint as a strategy passed to the solve,
 * as diffrax's `adjoint=` argument). The backward solve itself is common to every strategy: it
 * integrates the augmented system [z, a, a_θ] backwards between consecutive restart points (output
 * times and the strategy's checkpoints), resetting z to the stored forward state at each of them.
 */
export interface AdjointStrategy {
  readonly name: string;
  forward(f: TensorField, y0: tf.Tensor, ts: number[], options: OdeintOptions<tf.Tensor>): ForwardPass;
}

/**
 * Chen, Rubanova, Bettencourt & Duvenaud, "Neural ordinary differential equations" (NeurIPS 2018),
 * as torchdiffeq's `odeint_adjoint`: stores only the outputs and re-integrates the state backwards
 * alongside the adjoint. Memory is independent of the number of steps. Backward re-integration can
 * drift from the forward trajectory where the dynamics are strongly contracting forwards (they are
 * expanding backwards); use {@link CheckpointAdjoint} there.
 */
export class BacksolveAdjoint implements AdjointStrategy {
  readonly name = 'backsolve';

  forward(f: TensorField, y0: tf.Tensor, ts: number[], options: OdeintOptions<tf.Tensor>): ForwardPass {
    const r = odeint(f, y0, ts, options);
    return { ys: r.ys, stats: r.stats, checkpoints: [] };
  }
}

/**
 * Checkpointed adjoint: the forward pass also stores the state at the start of its accepted steps
 * (every one, or at most `count` of them, spread evenly in time) and the backward pass integrates
 * each segment backwards from a stored state. The re-integrated z then only drifts over one segment,
 * which keeps the backward pass accurate for problems whose backward re-integration is unstable, at
 * the cost of memory proportional to the number of checkpoints (cf. the checkpointing schemes of
 * CVODES, Serban & Hindmarsh 2005, and of diffrax's `RecursiveCheckpointAdjoint`).
 */
export class CheckpointAdjoint implements AdjointStrategy {
  readonly name = 'checkpoint';

  /** @param count largest number of checkpoints (default: every accepted step) */
  constructor(readonly count?: number) {
    if (count !== undefined)
      checkArgument(Number.isInteger(count) && count >= 1, `\`checkpoints\` must be a positive integer, got ${count}`);
  }

  forward(f: TensorField, y0: tf.Tensor, ts: number[], options: OdeintOptions<tf.Tensor>): ForwardPass {
    const { solver } = resolveParts(options);
    const t0 = ts[0];
    const tEnd = ts[ts.length - 1];
    const spacing = this.count === undefined ? 0 : (tEnd - t0) / (this.count + 1);
    const recorder: RecordingSolver = new RecordingSolver(solver, (t: number): boolean => {
      if (t === t0 || t === tEnd) return false;
      if (spacing === 0) return true;
      // At most `count` checkpoints: the first step start at or after each of t0 + k·spacing.
      const last: number = recorder.records.length;
      return last < (this.count as number) && (t - t0) / spacing >= last + 1;
    });
    try {
      const r = odeint(f, y0, ts, { ...options, solver: recorder });
      const outputs = new Set(ts);
      const checkpoints = recorder.records.filter((c) => {
        if (!outputs.has(c.t)) return true;
        c.y.dispose();
        return false;
      });
      recorder.records = [];
      return { ys: r.ys, stats: r.stats, checkpoints };
    } catch (e) {
      recorder.records.forEach((c) => c.y.dispose());
      throw e;
    }
  }
}

/**
 * Solver decorator that records the state at the start of every accepted step: the integration loop
 * calls `step` from the last accepted state, so a start time not seen before is an accepted state
 * (retries after a rejection start from the same time and are recorded once).
 */
class RecordingSolver implements OdeSolver {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number | undefined;
  readonly fsal: boolean;
  records: Checkpoint[] = [];
  private lastT = NaN;

  constructor(
    private readonly inner: OdeSolver,
    private readonly wanted: (t: number) => boolean,
  ) {
    this.name = inner.name;
    this.order = inner.order;
    this.errorOrder = inner.errorOrder;
    this.fsal = inner.fsal;
  }

  step<A>(ops: ArrayOps<A>, rhs: Rhs<A>, t0: number, y0: A, f0: A, h: number): StepResult<A> {
    if (t0 !== this.lastT) {
      this.lastT = t0;
      // The loop runs `step` inside a memory scope: keep the copy beyond it.
      if (this.wanted(t0)) this.records.push({ t: t0, y: tf.keep(tf.clone(y0 as tf.Tensor)) });
    }
    return this.inner.step(ops, rhs, t0, y0, f0, h);
  }

  interpolant<A>(
    ops: ArrayOps<A>,
    t0: number,
    h: number,
    y0: A,
    step: StepResult<A>,
    f1: () => A,
  ): DenseInterpolant<A> {
    return this.inner.interpolant(ops, t0, h, y0, step, f1);
  }
}

/** Builds the strategy named by `adjoint` (or returns the given one). */
export function resolveStrategy(
  adjoint: 'backsolve' | 'checkpoint' | AdjointStrategy | undefined,
  checkpoints?: number,
): AdjointStrategy {
  if (adjoint === undefined || adjoint === 'backsolve') {
    checkArgument(checkpoints === undefined, "`checkpoints` only applies to `adjoint: 'checkpoint'`");
    return new BacksolveAdjoint();
  }
  if (adjoint === 'checkpoint') return new CheckpointAdjoint(checkpoints);
  checkArgument(
    typeof adjoint === 'object' && adjoint !== null && typeof adjoint.forward === 'function',
    `Unknown adjoint '${String(adjoint)}'; expected 'backsolve', 'checkpoint' or an AdjointStrategy object`,
  );
  return adjoint;
}
