import * as tf from '@tensorflow/tfjs';
import type { ArrayOps } from '../backend/array-ops';
import { fusedCombine } from '../backend/tensor-ops';
import { checkArgument } from '../errors';

/** How the backward solve measures the local error of the augmented state [z, a, a_θ]. */
export type AdjointNorm = 'mixed' | 'seminorm';

/** Tolerances and channel layout of {@link AugmentedOps}. */
export interface AugmentedOpsConfig {
  /** Number of leading batched channels (z and a: 2); the remaining channels are the parameter adjoints. */
  batchedChannels: number;
  rtol: number;
  /** Absolute tolerance: a number, or one value per state component (the trailing dimension of z). */
  atol: number | ArrayLike<number>;
  /**
   * 'mixed' (default): the error norm is the largest of the norms of z, a and a_θ (torchdiffeq's
   * default for the adjoint). 'seminorm': a_θ is left out (Kidger, Chen & Lyons, "Hey, that's not an
   * ODE: faster ODE adjoints via seminorms", ICML 2021). The parameter adjoints are pure integrals
   * (nothing in the system depends on them), so their local error does not feed back into the
   * dynamics and the backward solve may take the steps that z and a alone need.
   */
  norm: AdjointNorm;
}

/**
 * Array operations on the augmented adjoint state, a list of tensors [z, a, a_θ...]: z and a have the
 * state's shape ([B, d]); the parameter adjoints follow (the backward pass packs them into one flat
 * vector, but any number of channels of any shape works). Lets the generic Runge–Kutta
 * solvers, controllers and integration loop run the backward solve unchanged (the adjoint is a
 * strategy on top of the same parts, not a second solver).
 */
export class AugmentedOps implements ArrayOps<tf.Tensor[]> {
  readonly name: string;
  private readonly cfg: AugmentedOpsConfig;
  private readonly atolTensor: tf.Tensor | null;
  private readonly atolScalar: number;

  constructor(stateShape: readonly number[], cfg: AugmentedOpsConfig) {
    this.name = `adjoint-augmented(${tf.getBackend()})`;
    this.cfg = cfg;
    checkArgument(
      Number.isFinite(cfg.rtol) && cfg.rtol >= 0,
      `\`adjointRtol\` must be a non-negative number, got ${cfg.rtol}`,
    );
    if (typeof cfg.atol === 'number') {
      checkArgument(cfg.atol >= 0, `\`adjointAtol\` must be non-negative, got ${cfg.atol}`);
      this.atolTensor = null;
      this.atolScalar = cfg.atol;
    } else {
      const d = stateShape[stateShape.length - 1];
      checkArgument(cfg.atol.length === d, `adjointAtol has ${cfg.atol.length} components but the state has ${d}`);
      const values = Array.from(cfg.atol);
      this.atolTensor = tf.keep(tf.tensor1d(values, 'float32'));
      // Parameter adjoints have no per-component meaning: use the strictest component.
      this.atolScalar = Math.min(...values);
    }
  }

  combine(base: tf.Tensor[] | null, coeffs: readonly number[], arrays: readonly tf.Tensor[][]): tf.Tensor[] {
    return tf.tidy(() => {
      const n = base ? base.length : arrays[0].length;
      const out: tf.Tensor[] = [];
      for (let c = 0; c < n; c++) {
        const fused = fusedCombine(
          base ? base[c] : null,
          coeffs,
          arrays.map((a) => a[c]),
        );
        if (fused) {
          out.push(fused);
          continue;
        }
        const terms: tf.Tensor[] = base ? [base[c]] : [];
        for (let j = 0; j < arrays.length; j++) {
          const k = coeffs[j];
          if (k === 0) continue;
          terms.push(k === 1 ? arrays[j][c] : tf.mul(arrays[j][c], k));
        }
        if (terms.length === 0) out.push(tf.zerosLike(arrays[0][c]));
        else if (terms.length === 1) out.push(tf.clone(terms[0]));
        else out.push(tf.addN(terms));
      }
      return out;
    });
  }

  scaledNorm(x: tf.Tensor[], refA: tf.Tensor[], refB: tf.Tensor[] | null): number {
    const { rtol, batchedChannels, norm } = this.cfg;
    const channels = norm === 'seminorm' ? batchedChannels : x.length;
    const v = tf.tidy(() => {
      const ratio = (c: number, atol: tf.Tensor | number) => {
        const ref = refB ? tf.maximum(tf.abs(refA[c]), tf.abs(refB[c])) : tf.abs(refA[c]);
        return tf.div(x[c], tf.add(tf.mul(ref, rtol), atol));
      };
      const parts: tf.Tensor[] = [];
      let nanGuard: tf.Tensor = tf.scalar(0);
      // Batched channels: the largest per-sample mean square, as the forward TensorOps norm.
      for (let c = 0; c < Math.min(channels, batchedChannels); c++) {
        const r = ratio(c, this.atolTensor ?? this.atolScalar);
        const rows = r.rank >= 2 ? tf.reshape(r, [r.shape[0], -1]) : tf.reshape(r, [1, -1]);
        const ms = tf.mean(tf.square(rows), 1);
        parts.push(tf.max(ms));
        nanGuard = tf.add(nanGuard, tf.sum(ms));
      }
      // Parameter adjoints: one mean square over all their entries.
      if (channels > batchedChannels) {
        let sum: tf.Tensor = tf.scalar(0);
        let count = 0;
        for (let c = batchedChannels; c < channels; c++) {
          sum = tf.add(sum, tf.sum(tf.square(ratio(c, this.atolScalar))));
          count += x[c].size;
        }
        parts.push(tf.div(sum, Math.max(count, 1)));
      }
      // `max` may skip NaN on some backends; adding 0·(sum of all) propagates NaN/Inf.
      return tf.add(tf.max(tf.stack(parts)), tf.mul(tf.add(nanGuard, tf.sum(tf.stack(parts))), 0));
    });
    const value = v.dataSync()[0];
    v.dispose();
    return Math.sqrt(value);
  }

  allFinite(a: tf.Tensor[]): boolean {
    const v = tf.tidy(() => tf.addN(a.map((t) => tf.sum(tf.mul(t, 0)))));
    const value = v.dataSync()[0];
    v.dispose();
    return value === 0;
  }

  clone(a: tf.Tensor[]): tf.Tensor[] {
    return a.map((t) => tf.clone(t));
  }

  scope<T>(fn: () => T): T {
    return tf.tidy(fn as () => tf.TensorContainer) as T;
  }

  dispose(a: tf.Tensor[] | null | undefined): void {
    if (a) for (const t of a) if (!t.isDisposed) t.dispose();
  }

  /** Releases the per-component tolerance tensor. */
  release(): void {
    this.atolTensor?.dispose();
  }
}
