import { OdeError } from '../errors';
import type { SolverStats } from '../stats';

/** The vector field in the stiff solvers' internal form: a flat state of B·d entries (B independent samples of d). */
export type FlatField = (t: number, y: Float64Array) => Float64Array;
/** A Jacobian in internal form: B row-major d×d blocks ∂f_b/∂y_b, B·d² entries. */
export type FlatJacobian = (t: number, y: Float64Array, fy: Float64Array) => Float64Array;

/** Work counters of an implicit or automatic-switching solve: SolverStats plus the Newton and switching counts. */
export interface StiffStats extends SolverStats {
  /** Newton iterations over all steps (each one linear solve per stage system). */
  newtonIterations: number;
  /** Newton solves that did not converge (each rejects the step or refreshes the Jacobian). */
  newtonFailures: number;
  /**
   * Evaluations of f made by finite-difference Jacobians (included in `nfe`; SciPy's Radau/BDF `nfev`
   * leaves them out, so compare `nfe − nfeJacobian` with SciPy).
   */
  nfeJacobian: number;
  /** Method switches made by 'auto' (explicit → implicit or back). */
  switches: number;
  /** Steps taken by each method (only 'auto' uses more than one). */
  stepsByMethod: Record<string, number>;
}

/** Zeroed counters. */
export function emptyStiffStats(): StiffStats {
  return {
    nfe: 0,
    steps: 0,
    accepted: 0,
    rejected: 0,
    njev: 0,
    nlu: 0,
    errorEstimate: 0,
    newtonIterations: 0,
    newtonFailures: 0,
    nfeJacobian: 0,
    switches: 0,
    stepsByMethod: {},
  };
}

const SQRT_EPS = Math.sqrt(Number.EPSILON);

/**
 * Trailing decoupled channels of a {@link StiffSystem} (the parameter adjoints of the implicit adjoint
 * solve): `size` entries after the B·d block entries that nothing else depends on (pure quadratures).
 * The Jacobian stays B blocks of d; the Newton matrices treat the trailing rows as zero (their entries
 * are exact integrals of the stage values once the blocks have converged).
 */
export interface TrailingChannels {
  size: number;
  /** Absolute tolerance of the trailing entries. */
  atol: number;
  /** Include them in the error norm as one more group (true) or leave them out (a seminorm). */
  inNorm: boolean;
}

/**
 * A stiff initial value problem as the implicit steppers see it: a flat Float64Array state holding B
 * independent samples of dimension d (B = 1 on the float64 path; the batch [B, d] on the tensor path),
 * the counted vector field, the Jacobian (user-supplied, automatic, or forward differences) as B
 * blocks, and the error norms. The error norm of a batch is the largest per-sample RMS norm, so every
 * sample meets the tolerance (as the explicit tensor path).
 */
export class StiffSystem {
  readonly n: number;
  readonly atol: Float64Array;

  /**
   * @param B number of independent samples; @param d dimension of each
   * @param field the vector field on the flat state (not counted; this class counts)
   * @param rtol relative tolerance; @param atol absolute tolerance, scalar or one per component of a sample
   * @param jacobian analytic or automatic Jacobian; undefined: forward differences (SciPy's choice)
   */
  constructor(
    readonly B: number,
    readonly d: number,
    private readonly field: FlatField,
    readonly rtol: number,
    atol: number | ArrayLike<number>,
    private readonly jac: FlatJacobian | undefined,
    readonly stats: StiffStats,
    readonly trailing?: TrailingChannels,
  ) {
    this.n = B * d + (trailing?.size ?? 0);
    this.atol = new Float64Array(this.n);
    for (let i = 0; i < B * d; i++) this.atol[i] = typeof atol === 'number' ? atol : atol[i % d];
    for (let i = B * d; i < this.n; i++) this.atol[i] = trailing?.atol ?? 0;
  }

  /** f(t, y), counted in `nfe`. */
  f(t: number, y: Float64Array): Float64Array {
    this.stats.nfe++;
    return this.field(t, y);
  }

  /**
   * ∂f/∂y at (t, y) as B blocks [B, d, d], counted in `njev`. `fy` must be f(t, y) exactly (finite
   * differences divide its round-off by √eps); pass undefined when only an approximation is at hand
   * (the FSAL derivative of an ESDIRK stage is only Newton-accurate) and it is evaluated afresh.
   */
  jacobian(t: number, y: Float64Array, fy?: Float64Array): Float64Array {
    this.stats.njev++;
    if (this.jac) {
      const J = this.jac(t, y, fy ?? new Float64Array(0));
      if (J.length !== this.B * this.d * this.d)
        throw new OdeError(
          'bad_arguments',
          `The Jacobian has ${J.length} entries; expected ${this.B}·${this.d}·${this.d} (B blocks of d×d, row-major)`,
        );
      return J;
    }
    if (!fy) {
      this.stats.nfeJacobian++;
      fy = this.f(t, y);
    }
    return this.finiteDifferenceJacobian(t, y, fy);
  }

  /**
   * Forward differences, one column per evaluation, perturbing column j of every sample at once (the
   * samples are independent, so the batch costs d evaluations). Increment sqrt(eps·max(1e-5, |y_j|))
   * as Hairer's RADAU5.
   */
  finiteDifferenceJacobian(t: number, y: Float64Array, fy: Float64Array): Float64Array {
    const { B, d } = this;
    const J = new Float64Array(B * d * d);
    const yp = y.slice();
    const delta = new Float64Array(B);
    for (let j = 0; j < d; j++) {
      for (let b = 0; b < B; b++) {
        const k = b * d + j;
        delta[b] = SQRT_EPS * Math.sqrt(Math.max(1e-5, Math.abs(y[k])));
        yp[k] = y[k] + delta[b];
        delta[b] = yp[k] - y[k]; // exactly representable increment
      }
      this.stats.nfeJacobian++;
      const fp = this.f(t, yp);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < d; i++) J[b * d * d + i * d + j] = (fp[b * d + i] - fy[b * d + i]) / delta[b];
        yp[b * d + j] = y[b * d + j];
      }
    }
    return J;
  }

  /** Error weights atol + rtol·max(|a|, |b|) (b optional). */
  scale(a: Float64Array, b?: Float64Array): Float64Array {
    const s = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++)
      s[i] = this.atol[i] + this.rtol * (b ? Math.max(Math.abs(a[i]), Math.abs(b[i])) : Math.abs(a[i]));
    return s;
  }

  /** Largest per-sample RMS of x/scale over the vectors `xs` together (NaN/∞ propagate). */
  normScaled(xs: readonly Float64Array[], scale: Float64Array): number {
    return this.norms(xs, scale, true);
  }

  private norms(xs: readonly Float64Array[], scale: Float64Array, withTrailing: boolean): number {
    const { B, d } = this;
    let worst = 0;
    for (let b = 0; b < B; b++) {
      let acc = 0;
      for (const x of xs)
        for (let i = b * d; i < (b + 1) * d; i++) {
          const r = x[i] / scale[i];
          acc += r * r;
        }
      const v = Math.sqrt(acc / (d * xs.length));
      if (!(v <= worst)) worst = v; // NaN wins
    }
    const tr = this.trailing;
    if (withTrailing && tr && tr.inNorm && tr.size > 0) {
      let acc = 0;
      for (const x of xs)
        for (let i = B * d; i < this.n; i++) {
          const r = x[i] / scale[i];
          acc += r * r;
        }
      const v = Math.sqrt(acc / (tr.size * xs.length));
      if (!(v <= worst)) worst = v;
    }
    return worst;
  }

  /**
   * Norm of Newton increments: as {@link normScaled} but without the trailing channels. Their stage
   * values depend on the block entries' and lag them by one iteration (the Newton matrix leaves their
   * coupling out), so they are not a measure of the iteration's convergence.
   */
  iterationNorm(xs: readonly Float64Array[], scale: Float64Array): number {
    return this.norms(xs, scale, false);
  }

  /** Scaled RMS error norm with weights from two states (Hairer, Nørsett & Wanner I, II.4). */
  norm(x: Float64Array, a: Float64Array, b?: Float64Array): number {
    return this.normScaled([x], this.scale(a, b));
  }

  /** Hairer's automatic initial step (one evaluation of f), as SciPy's `select_initial_step`. */
  initialStep(
    t0: number,
    y0: Float64Array,
    f0: Float64Array,
    dir: number,
    errorOrder: number,
    span: number,
    maxStep: number,
  ): number {
    const s = this.scale(y0);
    const d0 = this.normScaled([y0], s);
    const d1 = this.normScaled([f0], s);
    let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    h0 = Math.min(h0, span);
    const y1 = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) y1[i] = y0[i] + dir * h0 * f0[i];
    const f1 = this.f(t0 + dir * h0, y1);
    for (let i = 0; i < this.n; i++) y1[i] = f1[i] - f0[i];
    const d2 = this.normScaled([y1], s) / h0;
    const h1 =
      d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / (errorOrder + 1));
    const h = Math.min(100 * h0, h1, span, maxStep);
    return Number.isFinite(h) ? h : h0;
  }
}

/** true when every entry is finite. */
export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
