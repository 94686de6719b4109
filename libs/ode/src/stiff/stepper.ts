import type { StepInfo } from './controller';
import type { NewtonSolver } from './newton';
import type { StiffSystem } from './system';

/** A successful attempt: the proposed state, its error and the step's dense output. */
export interface StepAttempt {
  readonly ok: true;
  readonly y1: Float64Array;
  /** f(t1, y1) when the method has it for free, else null (the loop evaluates it). */
  readonly f1: Float64Array | null;
  /** Scaled RMS error norm of the step (≤ 1 within tolerance). */
  readonly err: number;
  readonly info: StepInfo;
  /** Continuous extension over the attempted step (valid once accepted). */
  readonly dense: (t: number) => Float64Array;
}

/** A failed attempt (Newton did not converge even with a fresh Jacobian): the loop halves the step. */
export interface StepFailure {
  readonly ok: false;
  readonly reason: string;
}

/**
 * A one-step method for stiff problems as the integration loop sees it. Unlike the explicit
 * `OdeSolver`, it carries state between steps (Jacobian, LU factors, the last collocation polynomial
 * for predictors), which is what lets it reuse the Jacobian and the factorisation.
 */
export interface StiffStepper {
  readonly name: string;
  /** Order of the propagated solution. */
  readonly order: number;
  /** Order q of the error estimate (the controller's exponent is 1/(q+1)). */
  readonly errorOrder: number;
  /** The nonlinear solver part (undefined for linearly implicit and explicit methods). */
  readonly newton?: NewtonSolver;
  /** (Re)starts at (t, y) with f = f(t, y): drops caches. */
  start(sys: StiffSystem, t: number, y: Float64Array, f: Float64Array): void;
  /** Attempts a step of signed size h. `retry`: the previous attempt from this point was rejected. */
  attempt(t: number, y: Float64Array, f: Float64Array, h: number, retry: boolean): StepAttempt | StepFailure;
  /** The attempt was accepted; f1 = f(t1, y1). Refreshes the Jacobian when the attempt asked for it. */
  accepted(t1: number, y1: Float64Array, f1: Float64Array, attempt: StepAttempt, h: number): void;
  /** An upper bound of |h|·ρ(J) for the last step (stiffness indicator of 'auto'); NaN if unknown. */
  stiffness?(h: number): number;
}

/** Newton tolerance of SciPy's Radau and BDF: max(10·eps/rtol, min(0.03, √rtol)). */
export function newtonTolerance(rtol: number): number {
  return Math.max((10 * Number.EPSILON) / rtol, Math.min(0.03, Math.sqrt(rtol)));
}

/** Largest infinity norm over the blocks of J: a bound of the spectral radius (Gershgorin). */
export function jacobianNormBound(J: Float64Array, B: number, d: number): number {
  let worst = 0;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let j = 0; j < d; j++) row += Math.abs(J[b * d * d + i * d + j]);
      worst = Math.max(worst, row);
    }
  return worst;
}

/** Cubic Hermite interpolant through (t0, y0, f0) and (t0 + h, y1, f1). */
export function hermite(
  t0: number,
  h: number,
  y0: Float64Array,
  f0: Float64Array,
  y1: Float64Array,
  f1: () => Float64Array,
): (t: number) => Float64Array {
  return (t) => {
    const th = (t - t0) / h;
    const th2 = th * th;
    const th3 = th2 * th;
    const c0 = 1 - 3 * th2 + 2 * th3;
    const c1 = h * (th - 2 * th2 + th3);
    const c2 = 3 * th2 - 2 * th3;
    const c3 = h * (th3 - th2);
    const g = f1();
    const out = new Float64Array(y0.length);
    for (let i = 0; i < out.length; i++) out[i] = c0 * y0[i] + c1 * f0[i] + c2 * y1[i] + c3 * g[i];
    return out;
  };
}
