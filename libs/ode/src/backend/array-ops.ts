/**
 * The small array interface every method is written against. A backend supplies the handful of
 * operations a Runge–Kutta step, its error norm and its dense output need; the solver, controller
 * and integration loop never touch typed arrays or tensors directly.
 */
export interface ArrayOps<A> {
  /** Backend name, for diagnostics. */
  readonly name: string;
  /**
   * `base + Σ coeffs[i] * arrays[i]` as a new array (zero coefficients are skipped); `base` may be
   * null, giving just the sum. This is the only arithmetic an explicit RK step needs.
   */
  combine(base: A | null, coeffs: readonly number[], arrays: readonly A[]): A;
  /**
   * Scaled RMS norm `sqrt(mean((x / (atol + rtol * max(|refA|, |refB|)))^2))` with the backend's
   * tolerances (Hairer, Nørsett & Wanner I, II.4, eq. 4.11). A batched backend returns the largest
   * per-sample norm, so every sample meets the tolerance. NaN or ±∞ in `x` yields a non-finite result.
   */
  scaledNorm(x: A, refA: A, refB: A | null): number;
  /** True when every entry is finite. */
  allFinite(a: A): boolean;
  /** A copy the caller owns. */
  clone(a: A): A;
  /** Runs `fn` in a memory scope: arrays it allocates and does not return are released. */
  scope<T>(fn: () => T): T;
  /** Releases an array (no-op for garbage-collected backends). */
  dispose(a: A | null | undefined): void;
}

/** Relative and absolute tolerances; `atol` may be given per state component. */
export interface Tolerances {
  rtol: number;
  atol: number | ArrayLike<number>;
}
