/**
 * Dense LU factorisation with partial pivoting (Golub & Van Loan, *Matrix Computations*, 3.4.1), real
 * and complex, for a batch of independent d×d blocks stored contiguously (block-diagonal matrices of
 * a batched state [B, d]: block b occupies entries b·d² … (b+1)·d² − 1, row-major). Typed-array loops:
 * for the small d of stiff ODE systems this beats tensor kernels, whose dispatch alone costs more
 * (see docs/benchmarks.md, stiff section).
 */

/** LU factors of B real d×d blocks: L (unit lower) and U packed in `lu`, row pivots in `piv`. */
export interface BlockLU {
  readonly B: number;
  readonly d: number;
  readonly lu: Float64Array;
  readonly piv: Int32Array;
  /** Index of the first block found exactly singular, or -1. */
  readonly singularBlock: number;
  /**
   * The shift alpha of {@link luShifted}: entries of the right-hand side beyond the B·d of the blocks
   * (decoupled quadrature channels, whose rows of J are zero) are divided by it. Undefined: left as is.
   */
  readonly shift?: number;
}

/** LU factors of B complex d×d blocks (separate real and imaginary parts). */
export interface ComplexBlockLU {
  readonly B: number;
  readonly d: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly piv: Int32Array;
  readonly singularBlock: number;
  /** The shift of {@link luShiftedComplex} (trailing entries beyond B·d are divided by it). */
  readonly shiftRe?: number;
  readonly shiftIm?: number;
}

/**
 * Factors `alpha·I − J` for every block of J ([B, d, d] row-major), the Newton matrix of implicit
 * methods (alpha = 1/(hγ) for SDIRK and Rosenbrock methods, μ/h for Radau IIA).
 */
export function luShifted(J: Float64Array, B: number, d: number, alpha: number): BlockLU {
  const lu = new Float64Array(B * d * d);
  for (let i = 0; i < lu.length; i++) lu[i] = -J[i];
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) lu[b * d * d + i * d + i] += alpha;
  return { ...luFactor(lu, B, d), shift: alpha };
}

/** In-place LU with partial pivoting of every block of `a` ([B, d, d] row-major). */
export function luFactor(a: Float64Array, B: number, d: number): BlockLU {
  const piv = new Int32Array(B * d);
  let singularBlock = -1;
  for (let b = 0; b < B; b++) {
    const o = b * d * d;
    for (let k = 0; k < d; k++) {
      let p = k;
      let max = Math.abs(a[o + k * d + k]);
      for (let i = k + 1; i < d; i++) {
        const v = Math.abs(a[o + i * d + k]);
        if (v > max) {
          max = v;
          p = i;
        }
      }
      piv[b * d + k] = p;
      if (p !== k)
        for (let j = 0; j < d; j++) {
          const tmp = a[o + k * d + j];
          a[o + k * d + j] = a[o + p * d + j];
          a[o + p * d + j] = tmp;
        }
      const pivot = a[o + k * d + k];
      if (pivot === 0) {
        if (singularBlock < 0) singularBlock = b;
        continue;
      }
      for (let i = k + 1; i < d; i++) {
        const l = (a[o + i * d + k] /= pivot);
        if (l === 0) continue;
        for (let j = k + 1; j < d; j++) a[o + i * d + j] -= l * a[o + k * d + j];
      }
    }
  }
  return { B, d, lu: a, piv, singularBlock };
}

/** Solves A x = r in place for every block (`r` has B·d entries). */
export function luSolve(f: BlockLU, r: Float64Array): Float64Array {
  const { B, d, lu, piv } = f;
  for (let b = 0; b < B; b++) {
    const o = b * d * d;
    const v = b * d;
    for (let k = 0; k < d; k++) {
      const p = piv[v + k];
      if (p !== k) {
        const tmp = r[v + k];
        r[v + k] = r[v + p];
        r[v + p] = tmp;
      }
    }
    for (let i = 1; i < d; i++) {
      let s = r[v + i];
      for (let j = 0; j < i; j++) s -= lu[o + i * d + j] * r[v + j];
      r[v + i] = s;
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = r[v + i];
      for (let j = i + 1; j < d; j++) s -= lu[o + i * d + j] * r[v + j];
      r[v + i] = s / lu[o + i * d + i];
    }
  }
  // Trailing decoupled entries: (alpha·I − 0) x = r.
  if (f.shift !== undefined) for (let i = B * d; i < r.length; i++) r[i] /= f.shift;
  return r;
}

/** Factors `(alphaRe + i·alphaIm)·I − J` for every block (the complex Newton matrix of Radau IIA). */
export function luShiftedComplex(
  J: Float64Array,
  B: number,
  d: number,
  alphaRe: number,
  alphaIm: number,
): ComplexBlockLU {
  const re = new Float64Array(B * d * d);
  const im = new Float64Array(B * d * d);
  for (let i = 0; i < re.length; i++) re[i] = -J[i];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < d; i++) {
      re[b * d * d + i * d + i] += alphaRe;
      im[b * d * d + i * d + i] = alphaIm;
    }
  const piv = new Int32Array(B * d);
  let singularBlock = -1;
  for (let b = 0; b < B; b++) {
    const o = b * d * d;
    for (let k = 0; k < d; k++) {
      let p = k;
      let max = Math.hypot(re[o + k * d + k], im[o + k * d + k]);
      for (let i = k + 1; i < d; i++) {
        const v = Math.hypot(re[o + i * d + k], im[o + i * d + k]);
        if (v > max) {
          max = v;
          p = i;
        }
      }
      piv[b * d + k] = p;
      if (p !== k)
        for (let j = 0; j < d; j++) {
          let tmp = re[o + k * d + j];
          re[o + k * d + j] = re[o + p * d + j];
          re[o + p * d + j] = tmp;
          tmp = im[o + k * d + j];
          im[o + k * d + j] = im[o + p * d + j];
          im[o + p * d + j] = tmp;
        }
      const pr = re[o + k * d + k];
      const pi = im[o + k * d + k];
      const den = pr * pr + pi * pi;
      if (den === 0) {
        if (singularBlock < 0) singularBlock = b;
        continue;
      }
      for (let i = k + 1; i < d; i++) {
        const ar = re[o + i * d + k];
        const ai = im[o + i * d + k];
        // l = a / pivot
        const lr = (ar * pr + ai * pi) / den;
        const li = (ai * pr - ar * pi) / den;
        re[o + i * d + k] = lr;
        im[o + i * d + k] = li;
        if (lr === 0 && li === 0) continue;
        for (let j = k + 1; j < d; j++) {
          const ur = re[o + k * d + j];
          const ui = im[o + k * d + j];
          re[o + i * d + j] -= lr * ur - li * ui;
          im[o + i * d + j] -= lr * ui + li * ur;
        }
      }
    }
  }
  return { B, d, re, im, piv, singularBlock, shiftRe: alphaRe, shiftIm: alphaIm };
}

/** Solves the complex system in place: (xr + i·xi) ← A⁻¹ (xr + i·xi) for every block. */
export function luSolveComplex(f: ComplexBlockLU, xr: Float64Array, xi: Float64Array): void {
  const { B, d, re, im, piv } = f;
  for (let b = 0; b < B; b++) {
    const o = b * d * d;
    const v = b * d;
    for (let k = 0; k < d; k++) {
      const p = piv[v + k];
      if (p !== k) {
        let tmp = xr[v + k];
        xr[v + k] = xr[v + p];
        xr[v + p] = tmp;
        tmp = xi[v + k];
        xi[v + k] = xi[v + p];
        xi[v + p] = tmp;
      }
    }
    for (let i = 1; i < d; i++) {
      let sr = xr[v + i];
      let si = xi[v + i];
      for (let j = 0; j < i; j++) {
        const lr = re[o + i * d + j];
        const li = im[o + i * d + j];
        sr -= lr * xr[v + j] - li * xi[v + j];
        si -= lr * xi[v + j] + li * xr[v + j];
      }
      xr[v + i] = sr;
      xi[v + i] = si;
    }
    for (let i = d - 1; i >= 0; i--) {
      let sr = xr[v + i];
      let si = xi[v + i];
      for (let j = i + 1; j < d; j++) {
        const ur = re[o + i * d + j];
        const ui = im[o + i * d + j];
        sr -= ur * xr[v + j] - ui * xi[v + j];
        si -= ur * xi[v + j] + ui * xr[v + j];
      }
      const pr = re[o + i * d + i];
      const pi = im[o + i * d + i];
      const den = pr * pr + pi * pi;
      xr[v + i] = (sr * pr + si * pi) / den;
      xi[v + i] = (si * pr - sr * pi) / den;
    }
  }
  // Trailing decoupled entries: divide by the complex shift.
  if (f.shiftRe !== undefined && f.shiftIm !== undefined) {
    const ar = f.shiftRe;
    const ai = f.shiftIm;
    const den = ar * ar + ai * ai;
    for (let i = B * d; i < xr.length; i++) {
      const sr = xr[i];
      const si = xi[i];
      xr[i] = (sr * ar + si * ai) / den;
      xi[i] = (si * ar - sr * ai) / den;
    }
  }
}
