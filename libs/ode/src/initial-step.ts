import type { ArrayOps } from './backend/array-ops';

/**
 * Automatic initial step size (Hairer, Nørsett & Wanner I, II.4, "Starting step size"; the same
 * algorithm as SciPy's `select_initial_step` and torchdiffeq's `_select_initial_step`). Costs one
 * evaluation of `f`.
 *
 * @param rhs the vector field
 * @param t0 initial time; @param y0 initial state; @param f0 `rhs(t0, y0)`
 * @param direction +1 or -1
 * @param errorOrder order q of the embedded error estimate
 * @param intervalLength |tEnd - t0|, an upper bound for the step
 * @param maxStep upper bound for the step
 * @returns the step magnitude (positive)
 */
export function initialStepSize<A>(
  ops: ArrayOps<A>,
  rhs: (t: number, y: A) => A,
  t0: number,
  y0: A,
  f0: A,
  direction: number,
  errorOrder: number,
  intervalLength: number,
  maxStep: number,
): number {
  if (intervalLength === 0) return 0;
  return ops.scope(() => {
    const d0 = ops.scaledNorm(y0, y0, null);
    const d1 = ops.scaledNorm(f0, y0, null);
    let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    h0 = Math.min(h0, intervalLength);
    const y1 = ops.combine(y0, [h0 * direction], [f0]);
    const f1 = rhs(t0 + h0 * direction, y1);
    const d2 = ops.scaledNorm(ops.combine(f1, [-1], [f0]), y0, null) / h0;
    const h1 =
      d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / (errorOrder + 1));
    const h = Math.min(100 * h0, h1, intervalLength, maxStep);
    return Number.isFinite(h) ? h : h0;
  });
}
