/**
 * The nonlinear solver of the implicit methods, a separate part passed to each stepper (as diffrax's
 * `Kvaerno5.root_finder`): simplified Newton iterations with a frozen Jacobian, stopped by the
 * convergence-rate test of Hairer & Wanner (*Solving ODEs II*, IV.8, eqs. 8.10–8.13):
 *
 *   Θ_k = ‖ΔZ_k‖ / ‖ΔZ_{k−1}‖,  η_k = Θ_k / (1 − Θ_k);  converged when η_k ‖ΔZ_k‖ ≤ tol;
 *   diverging when Θ_k ≥ 1 or the predicted error after the remaining iterations,
 *   Θ_k^(kmax−k) / (1 − Θ_k) · ‖ΔZ_k‖, exceeds tol.
 *
 * With `carryRate` the first iteration is judged with η from the previous solve, η₀ = max(η_old, eps)^0.8
 * (Hairer's RADAU5/SDIRK4 `FACCON`), which lets a well-converging step stop after one iteration; without
 * it at least two iterations are made (SciPy's Radau).
 */

/** Options of {@link NewtonSolver}. */
export interface NewtonOptions {
  /** Largest number of iterations per solve (default 6, as SciPy's Radau; Hairer uses 7). */
  maxIterations?: number;
  /** Judge the first iteration with the previous solve's rate (default true). */
  carryRate?: boolean;
}

/** Outcome of one nonlinear solve. */
export interface NewtonResult {
  readonly converged: boolean;
  /** Iterations made (each one evaluation of the residual and one linear solve per stage system). */
  readonly iterations: number;
  /** Last contraction estimate Θ (NaN after a single iteration). */
  readonly rate: number;
  /** Why it stopped without converging. */
  readonly failure?: 'diverging' | 'too_slow' | 'max_iterations' | 'non_finite';
}

/** Simplified Newton iteration with Hairer & Wanner's convergence control. */
export class NewtonSolver {
  readonly maxIterations: number;
  readonly carryRate: boolean;
  private eta = 1;

  constructor(options: NewtonOptions = {}) {
    this.maxIterations = options.maxIterations ?? 6;
    this.carryRate = options.carryRate ?? true;
  }

  /**
   * Runs the iteration. `increment` computes the next Newton correction ΔZ_k (solving with the frozen
   * LU) without applying it and returns its scaled RMS norm (NaN or ∞ when the residual is not
   * finite); `apply` adds it to the iterate.
   *
   * @param tol tolerance on the scaled norm of the remaining error (SciPy/Hairer: max(10 eps/rtol, min(0.03, √rtol)))
   */
  solve(increment: () => number, apply: () => void, tol: number): NewtonResult {
    const kmax = this.maxIterations;
    let eta = this.carryRate ? Math.max(this.eta, Number.EPSILON) ** 0.8 : Infinity;
    let normOld = NaN;
    let rate = NaN;
    for (let k = 0; k < kmax; k++) {
      const dn = increment();
      if (!Number.isFinite(dn)) return { converged: false, iterations: k + 1, rate, failure: 'non_finite' };
      if (k > 0) {
        rate = dn / normOld;
        if (rate >= 1) return { converged: false, iterations: k + 1, rate, failure: 'diverging' };
        if ((rate ** (kmax - k) / (1 - rate)) * dn > tol)
          return { converged: false, iterations: k + 1, rate, failure: 'too_slow' };
        eta = rate / (1 - rate);
      }
      apply();
      if (dn === 0 || eta * dn <= tol) {
        if (k > 0) this.eta = eta;
        return { converged: true, iterations: k + 1, rate };
      }
      normOld = dn;
    }
    return { converged: false, iterations: kmax, rate, failure: 'max_iterations' };
  }
}
