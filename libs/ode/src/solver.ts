import type { ArrayOps } from './backend/array-ops';
import type { ButcherTableau } from './tableau';

/** A vector field in the integrator's internal form: time is a plain number. */
export type Rhs<A> = (t: number, y: A) => A;

/** What one attempted step produces (the diffrax `step` contract). */
export interface StepResult<A> {
  /** Proposed state at t0 + h. */
  readonly y1: A;
  /** Local error estimate (absolute, already multiplied by h), or null for methods without one. */
  readonly yErr: A | null;
  /** f(t0 + h, y1) when the method computed it (FSAL), else null. */
  readonly f1: A | null;
  /** All stage derivatives k_j, `stages[0]` being the `f0` passed in. Used by the dense output. */
  readonly stages: readonly A[];
  /** Evaluations of f made by this step. */
  readonly nfe: number;
}

/** A continuous extension of one step, valid on [t0, t1]. */
export interface DenseInterpolant<A> {
  readonly t0: number;
  readonly t1: number;
  /** State at `t` (a new array the caller owns). */
  evaluate(t: number): A;
}

/** Interface every one-step solver implements; the integration loop, controllers and events only see this. */
export interface OdeSolver {
  readonly name: string;
  /** Order of the propagated solution. */
  readonly order: number;
  /** Order q of the embedded error estimate, or undefined when the method has none (fixed step only). */
  readonly errorOrder: number | undefined;
  /** Whether `step` returns `f1`. */
  readonly fsal: boolean;
  /** Attempts one step of (signed) size `h` from (t0, y0) with f0 = f(t0, y0). */
  step<A>(ops: ArrayOps<A>, rhs: Rhs<A>, t0: number, y0: A, f0: A, h: number): StepResult<A>;
  /**
   * Dense output over an accepted step. `f1` returns f(t1, y1) (evaluated on demand by the loop, and
   * reused as the next step's f0) for interpolants that need it.
   */
  interpolant<A>(ops: ArrayOps<A>, t0: number, h: number, y0: A, step: StepResult<A>, f1: () => A): DenseInterpolant<A>;
}

/**
 * Generic explicit Runge–Kutta solver driven by a {@link ButcherTableau} (Hairer, Nørsett & Wanner I,
 * II.1 and II.4). Uses the tableau's embedded pair for the error estimate, FSAL when the tableau has
 * it, and the tableau's own dense output, or else the cubic Hermite interpolant through
 * (y0, f0, y1, f1) (Hairer, Nørsett & Wanner I, II.6).
 */
export class ExplicitRungeKutta implements OdeSolver {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number | undefined;
  readonly fsal: boolean;

  constructor(readonly tableau: ButcherTableau) {
    this.name = tableau.name;
    this.order = tableau.order;
    this.errorOrder = tableau.bError ? tableau.errorOrder : undefined;
    this.fsal = tableau.fsal;
  }

  step<A>(ops: ArrayOps<A>, rhs: Rhs<A>, t0: number, y0: A, f0: A, h: number): StepResult<A> {
    const tab = this.tableau;
    const s = tab.stages;
    const k: A[] = [f0];
    let nfe = 0;
    let y1: A | null = null;
    for (let i = 1; i < s; i++) {
      const row = tab.a[i - 1];
      const yi = ops.combine(
        y0,
        row.map((aij) => aij * h),
        k,
      );
      if (this.fsal && i === s - 1) y1 = yi;
      k.push(rhs(t0 + tab.c[i] * h, yi));
      nfe++;
    }
    if (y1 === null)
      y1 = ops.combine(
        y0,
        tab.b.map((bj) => bj * h),
        k,
      );
    const yErr = tab.bError
      ? ops.combine(
          null,
          tab.bError.map((ej) => ej * h),
          k,
        )
      : null;
    return { y1, yErr, f1: this.fsal ? k[s - 1] : null, stages: k, nfe };
  }

  interpolant<A>(
    ops: ArrayOps<A>,
    t0: number,
    h: number,
    y0: A,
    step: StepResult<A>,
    f1: () => A,
  ): DenseInterpolant<A> {
    const tab = this.tableau;
    const t1 = t0 + h;
    if (tab.dense)
      return {
        t0,
        t1,
        evaluate: (t) =>
          ops.combine(
            y0,
            tab.denseWeights((t - t0) / h).map((w) => w * h),
            step.stages,
          ),
      };
    return hermiteInterpolant(ops, t0, h, y0, step.stages[0], step.y1, f1);
  }
}

/** Cubic Hermite interpolant through (t0, y0, f0) and (t1, y1, f1); third-order accurate. */
export function hermiteInterpolant<A>(
  ops: ArrayOps<A>,
  t0: number,
  h: number,
  y0: A,
  f0: A,
  y1: A,
  f1: () => A,
): DenseInterpolant<A> {
  return {
    t0,
    t1: t0 + h,
    evaluate: (t) => {
      const th = (t - t0) / h;
      const th2 = th * th;
      const th3 = th2 * th;
      return ops.combine(
        null,
        [1 - 3 * th2 + 2 * th3, h * (th - 2 * th2 + th3), 3 * th2 - 2 * th3, h * (th3 - th2)],
        [y0, f0, y1, f1()],
      );
    },
  };
}
