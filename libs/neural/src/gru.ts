import * as tf from '@tensorflow/tfjs';
import { activate, affine, matmul } from './layers';
import type { ParamScope } from './params';

/**
 * Gated recurrent unit (Cho et al. 2014) that folds a partially observed reading into a hidden state,
 * as in the ODE-RNN of Rubanova, Chen & Duvenaud ("Latent ODEs for irregularly-sampled time series",
 * NeurIPS 2019): the input is [x ⊙ m, m] (values with missing sensors zeroed, and the mask itself),
 * and a sample whose reading is entirely masked keeps its state exactly (h' = h).
 *
 * u = σ(x W_u + h U_u + b_u), r = σ(x W_r + h U_r + b_r), n = tanh(x W_n + (r ⊙ h) U_n + b_n),
 * h' = n + u ⊙ (h − n). Weights are stored [in, out] and gate weights concatenated, so one step is
 * three matMuls.
 */
export class MaskedGru {
  private readonly wx: tf.Variable;
  private readonly wh: tf.Variable;
  private readonly un: tf.Variable;
  private readonly b: tf.Variable;

  /**
   * @param scope parameters
   * @param inputDim number of sensors D (the cell's input is 2D wide: values and mask)
   * @param hiddenDim hidden width H
   */
  constructor(
    scope: ParamScope,
    readonly inputDim: number,
    readonly hiddenDim: number,
  ) {
    const H = hiddenDim;
    this.wx = scope.create('wx', [2 * inputDim, 3 * H]);
    this.wh = scope.create('wh', [H, 2 * H]);
    this.un = scope.create('un', [H, H]);
    this.b = scope.create('b', [3 * H], 'zeros');
  }

  /** The weights copied to the host (`host-kernels.ts`): wx [2D, 3H], wh [H, 2H], un [H, H], b [3H], row-major. */
  hostForm(): { D: number; H: number; wx: Float64Array; wh: Float64Array; un: Float64Array; b: Float64Array } {
    const copy = (v: tf.Variable) => Float64Array.from(v.dataSync());
    return {
      D: this.inputDim,
      H: this.hiddenDim,
      wx: copy(this.wx),
      wh: copy(this.wh),
      un: copy(this.un),
      b: copy(this.b),
    };
  }

  /**
   * @param h hidden states [B, H]
   * @param x readings [B, D] (values at masked entries are ignored)
   * @param mask [B, D], 1 where observed
   * @returns updated states [B, H]; rows with an all-zero mask are returned unchanged
   */
  update(h: tf.Tensor, x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const H = this.hiddenDim;
    const inp = tf.concat([tf.mul(x, mask), mask], 1);
    const xw = affine(inp, this.wx, this.b);
    const [xg, xn] = tf.split(xw, [2 * H, H], 1);
    const gates = tf.sigmoid(tf.add(xg, matmul(h, this.wh)));
    const [u, r] = tf.split(gates, 2, 1);
    const n = activate(tf.add(xn, matmul(tf.mul(r, h), this.un)), 'tanh');
    const hNew = tf.add(n, tf.mul(u, tf.sub(h, n)));
    // Any sensor observed → take the update; none → keep h exactly (h + 0 · (h' − h) = h).
    const any = tf.cast(tf.greater(tf.sum(mask, 1, true), 0), 'float32');
    return tf.add(h, tf.mul(any, tf.sub(hNew, h)));
  }
}
