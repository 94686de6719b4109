import { checkArgument } from '../errors';
import type { ArrayOps, Tolerances } from './array-ops';

/**
 * Float64 backend: plain `Float64Array` loops, double precision, no per-operation overhead. Meant
 * for physical models, small systems, reference accuracy, and small batches: `rows` states of `dim`
 * components each, stored row-major in one array [rows · dim], whose error norm is the largest
 * per-row scaled RMS norm (as the tensor backend's), so every sample meets the tolerance. `atol` may
 * be given per component (length `dim`, shared by the rows).
 */
export class Float64Ops implements ArrayOps<Float64Array> {
  readonly name = 'float64';
  private readonly atol: Float64Array;
  private readonly rtol: number;
  private readonly n: number;

  /** @param dim state dimension (of one row); @param tol tolerances used by `scaledNorm`; @param rows batch rows. */
  constructor(
    readonly dim: number,
    tol: Tolerances,
    readonly rows = 1,
  ) {
    this.rtol = tol.rtol;
    this.n = rows * dim;
    if (typeof tol.atol === 'number') this.atol = new Float64Array(dim).fill(tol.atol);
    else {
      checkArgument(tol.atol.length === dim, `atol has ${tol.atol.length} components but the state has ${dim}`);
      this.atol = Float64Array.from(tol.atol);
    }
  }

  combine(base: Float64Array | null, coeffs: readonly number[], arrays: readonly Float64Array[]): Float64Array {
    const n = this.n;
    const out = base ? base.slice() : new Float64Array(n);
    for (let j = 0; j < arrays.length; j++) {
      const c = coeffs[j];
      if (c === 0) continue;
      const a = arrays[j];
      for (let i = 0; i < n; i++) out[i] += c * a[i];
    }
    return out;
  }

  scaledNorm(x: Float64Array, refA: Float64Array, refB: Float64Array | null): number {
    const { atol, rtol, dim, rows } = this;
    if (dim === 0 || rows === 0) return 0;
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let j = 0, i = r * dim; j < dim; j++, i++) {
        const ref = refB ? Math.max(Math.abs(refA[i]), Math.abs(refB[i])) : Math.abs(refA[i]);
        const q = x[i] / (atol[j] + rtol * ref);
        acc += q * q;
      }
      // `acc > worst` is false for NaN: keep the NaN, so that the caller sees a non-finite norm.
      if (Number.isNaN(acc)) return NaN;
      if (acc > worst) worst = acc;
    }
    return Math.sqrt(worst / dim);
  }

  allFinite(a: Float64Array): boolean {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
    return true;
  }

  clone(a: Float64Array): Float64Array {
    return a.slice();
  }

  scope<T>(fn: () => T): T {
    return fn();
  }

  dispose(): void {}
}
