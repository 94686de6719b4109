import * as tf from '@tensorflow/tfjs';
import { checkArgument } from '../errors';
import type { ArrayOps, Tolerances } from './array-ops';
import { fusedLinComb } from './lin-comb';

/**
 * `base + Σ coeffs[j]·arrays[j]` (zero coefficients skipped) as one fused kernel where the backend has
 * one (see lin-comb.ts), with at least two terms; null otherwise.
 */
export function fusedCombine(
  base: tf.Tensor | null,
  coeffs: readonly number[],
  arrays: readonly tf.Tensor[],
): tf.Tensor | null {
  const xs: tf.Tensor[] = base ? [base] : [];
  const cs: number[] = base ? [1] : [];
  for (let j = 0; j < arrays.length; j++)
    if (coeffs[j] !== 0) {
      xs.push(arrays[j]);
      cs.push(coeffs[j]);
    }
  return fusedLinComb(xs, cs);
}

/**
 * Tensor backend: TensorFlow.js, float32, batched states of shape [B, d] (any rank ≥ 1 works; the
 * leading axis is the batch for the error norm). Each operation is a handful of kernel launches, so
 * `combine` folds the whole RK linear combination into one `addN`.
 */
export class TensorOps implements ArrayOps<tf.Tensor> {
  readonly name: string;
  private readonly rtol: number;
  private readonly atol: tf.Tensor | number;

  /** @param shape state shape; @param tol tolerances (per-component `atol` has the trailing dimension's length). */
  constructor(
    readonly shape: readonly number[],
    tol: Tolerances,
  ) {
    this.name = `tensor(${tf.getBackend()})`;
    this.rtol = tol.rtol;
    if (typeof tol.atol === 'number') this.atol = tol.atol;
    else {
      const d = shape[shape.length - 1];
      checkArgument(tol.atol.length === d, `atol has ${tol.atol.length} components but the state has ${d}`);
      this.atol = tf.keep(tf.tensor1d(Array.from(tol.atol), 'float32'));
    }
  }

  combine(base: tf.Tensor | null, coeffs: readonly number[], arrays: readonly tf.Tensor[]): tf.Tensor {
    const fused = fusedCombine(base, coeffs, arrays);
    if (fused) return fused;
    return tf.tidy(() => {
      const terms: tf.Tensor[] = [];
      if (base) terms.push(base);
      for (let j = 0; j < arrays.length; j++) {
        const c = coeffs[j];
        if (c === 0) continue;
        terms.push(c === 1 ? arrays[j] : tf.mul(arrays[j], c));
      }
      if (terms.length === 0) return tf.zeros(this.shape as number[]);
      if (terms.length === 1) return terms[0] === base || arrays.includes(terms[0]) ? tf.clone(terms[0]) : terms[0];
      return tf.addN(terms);
    });
  }

  scaledNorm(x: tf.Tensor, refA: tf.Tensor, refB: tf.Tensor | null): number {
    const v = tf.tidy(() => {
      const ref = refB ? tf.maximum(tf.abs(refA), tf.abs(refB)) : tf.abs(refA);
      const scale = tf.add(tf.mul(ref, this.rtol), this.atol);
      const r = tf.div(x, scale);
      const rows = x.rank >= 2 ? tf.reshape(r, [x.shape[0], -1]) : tf.reshape(r, [1, -1]);
      const ms = tf.mean(tf.square(rows), 1);
      // `max` may skip NaN on some backends; adding sum(ms)·0 propagates NaN/Inf.
      return tf.add(tf.max(ms), tf.mul(tf.sum(ms), 0));
    });
    const value = v.dataSync()[0];
    v.dispose();
    return Math.sqrt(value);
  }

  allFinite(a: tf.Tensor): boolean {
    const v = tf.tidy(() => tf.sum(tf.mul(a, 0)));
    const value = v.dataSync()[0];
    v.dispose();
    return value === 0;
  }

  clone(a: tf.Tensor): tf.Tensor {
    return tf.clone(a);
  }

  scope<T>(fn: () => T): T {
    return tf.tidy(fn as () => tf.TensorContainer) as T;
  }

  dispose(a: tf.Tensor | null | undefined): void {
    if (a && !a.isDisposed) a.dispose();
  }

  /** Releases the per-component tolerance tensor. */
  release(): void {
    if (typeof this.atol !== 'number') this.atol.dispose();
  }
}
