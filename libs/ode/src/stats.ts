/** Work counters of a solve, in the vocabulary of SciPy's `OdeResult` and diffrax's `stats`. */
export interface SolverStats {
  /** Evaluations of the vector field (including the initial one and the initial-step probe). */
  nfe: number;
  /** Step attempts (accepted + rejected). */
  steps: number;
  accepted: number;
  rejected: number;
  /** Jacobian evaluations (0 for explicit methods; for the implicit solvers to come). */
  njev: number;
  /** LU decompositions (0 for explicit methods; for the implicit solvers to come). */
  nlu: number;
  /**
   * Largest scaled local error norm among accepted steps (≤ 1 when the tolerance was met; a solver
   * error bound a caller can report). NaN for methods without an embedded error estimate.
   */
  errorEstimate: number;
}

/** Fresh zeroed counters. */
export function emptyStats(hasErrorEstimate: boolean): SolverStats {
  return { nfe: 0, steps: 0, accepted: 0, rejected: 0, njev: 0, nlu: 0, errorEstimate: hasErrorEstimate ? 0 : NaN };
}
