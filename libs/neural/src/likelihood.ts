import * as tf from '@tensorflow/tfjs';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Masked Gaussian negative log-likelihood per sample: Σ over observed entries of
 * ½ (log 2π + log σ² + (x − μ)² / σ²).
 *
 * @param x observations [..., B, D] (any leading axes; the batch axis is `batchAxis`)
 * @param mean predicted means, broadcastable to `x`
 * @param logVar predicted log-variances, broadcastable to `x`
 * @param mask 1 where observed, broadcastable to `x`
 * @param batchAxis axis kept in the result (default: the second to last)
 * @returns NLL per sample, [B]
 */
export function gaussianNll(
  x: tf.Tensor,
  mean: tf.Tensor,
  logVar: tf.Tensor,
  mask: tf.Tensor,
  batchAxis = x.rank - 2,
): tf.Tensor {
  const sq = tf.square(tf.sub(x, mean));
  const terms = tf.mul(tf.add(tf.add(logVar, LOG_2PI), tf.mul(sq, tf.exp(tf.neg(logVar)))), 0.5);
  const masked = tf.mul(terms, mask);
  const axes = Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== batchAxis);
  return tf.sum(masked, axes);
}

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) per sample, summed over the last axis: ½ Σ (σ² + μ² − 1 − log σ²)
 * (Kingma & Welling, "Auto-encoding variational Bayes", 2014, Appendix B).
 *
 * @param mean [B, L]
 * @param logVar [B, L]
 * @returns [B]
 */
export function klStandardNormal(mean: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sum(tf.sub(tf.add(tf.exp(logVar), tf.square(mean)), tf.add(logVar, 1)), -1), 0.5);
}

/** log N(z; μ, σ²) summed over the last axis. */
export function logNormal(z: tf.Tensor, mean: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  const sq = tf.square(tf.sub(z, mean));
  return tf.mul(tf.sum(tf.add(tf.add(logVar, LOG_2PI), tf.mul(sq, tf.exp(tf.neg(logVar)))), -1), -0.5);
}

/** log mean exp along `axis`, stably. */
export function logMeanExp(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.sub(tf.logSumExp(x, axis), Math.log(x.shape[axis]));
}
