/**
 * Vector fields and helpers shared by the adjoint tests and the benchmark: a tensor MLP field with its
 * weights as tf.Variables and the same field in float64 (for finite differences through the Float64
 * backend), a loss on several output times, and backpropagation through the unrolled tensor solve.
 */
import * as tf from '@tensorflow/tfjs';
import { odeint, type OdeintOptions, type TensorField } from '../odeint';
import { makeMlp, mlpForward, seededUniform, type Mlp } from '../testing/problems';

/** A tanh MLP field d → h → h → d whose weights are tf.Variables (stored [in, out]). */
export interface MlpField {
  mlp: Mlp;
  /** [W1, b1, W2, b2, W3, b3] */
  params: tf.Variable[];
  f: TensorField;
  dispose(): void;
}

/** Builds the tensor MLP field from {@link makeMlp}'s seeded weights. */
export function makeMlpField(d: number, hidden: number, seed: number): MlpField {
  const mlp = makeMlp(d, hidden, seed);
  const dims = [d, hidden, hidden, d];
  const params: tf.Variable[] = [];
  for (let l = 0; l < 3; l++) {
    params.push(tf.variable(tf.tensor2d(Float32Array.from(mlp.w[l]), [dims[l], dims[l + 1]])));
    params.push(tf.variable(tf.tensor1d(Float32Array.from(mlp.b[l]))));
  }
  const f: TensorField = (_t, y) =>
    tf.tidy(() => {
      let x = y;
      for (let l = 0; l < 3; l++) {
        x = tf.add(tf.matMul(x, params[2 * l]), params[2 * l + 1]);
        if (l < 2) x = tf.tanh(x);
      }
      return x;
    });
  return { mlp, params, f, dispose: () => params.forEach((p) => p.dispose()) };
}

/** The MLP's flat parameter vector in the order of `params` ([W1, b1, W2, b2, W3, b3]). */
export function flattenMlp(mlp: Mlp): Float64Array {
  const parts: Float64Array[] = [];
  for (let l = 0; l < 3; l++) parts.push(mlp.w[l], mlp.b[l]);
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The MLP with parameters `theta` (a flat vector as {@link flattenMlp}). */
export function unflattenMlp(like: Mlp, theta: Float64Array): Mlp {
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  let o = 0;
  for (let l = 0; l < 3; l++) {
    w.push(theta.slice(o, o + like.w[l].length));
    o += like.w[l].length;
    b.push(theta.slice(o, o + like.b[l].length));
    o += like.b[l].length;
  }
  return { d: like.d, hidden: like.hidden, w, b };
}

/** Σ_k Σ weights[k] ⊙ ys[k]: a loss on every output time with distinct incoming gradients. */
export function weightedLoss(ys: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(ys, weights)));
}

/** Float64 version of {@link weightedLoss} for one sample: Σ_k weights[k][b] · y_b(t_k), solved at rtol 1e-10. */
export function weightedLoss64(
  field: (t: number, y: Float64Array) => ArrayLike<number>,
  y0: ArrayLike<number>,
  ts: readonly number[],
  weights: (k: number) => ArrayLike<number>,
): number {
  const r = odeint((t, y) => Array.from(field(t, y)), Array.from(y0), ts, { rtol: 1e-10, atol: 1e-12 });
  let acc = 0;
  r.ys.forEach((y, k) => {
    const w = weights(k);
    for (let i = 0; i < y.length; i++) acc += w[i] * y[i];
  });
  return acc;
}

/** The float64 MLP field of `mlp`. */
export const mlpField64 =
  (mlp: Mlp) =>
  (_t: number, y: Float64Array): Float64Array =>
    mlpForward(mlp, y);

/**
 * Gradients by backpropagation through the unrolled tensor solve (TensorFlow.js autodiff through
 * every Runge–Kutta stage of `odeint`): the reference the adjoint must match, and the memory-hungry
 * baseline it replaces.
 */
export function unrolledGrads(
  f: TensorField,
  y0: tf.Tensor,
  ts: readonly number[],
  params: readonly tf.Tensor[],
  loss: (ys: tf.Tensor) => tf.Scalar,
  options: OdeintOptions<tf.Tensor>,
): { value: number; grads: tf.Tensor[] } {
  const g = tf.engine().gradients(() => loss(odeint(f, y0, ts, options).ys), [y0, ...params], undefined, true);
  const value = g.value.dataSync()[0];
  g.value.dispose();
  return { value, grads: g.grads.map((x, i) => x ?? tf.zerosLike([y0, ...params][i])) };
}

/** ‖a − b‖ / ‖b‖ over all entries. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Deterministic uniform values in [-1, 1) as a Float32Array. */
export function uniformArray(n: number, seed: number): Float32Array {
  const r = seededUniform(seed);
  return Float32Array.from({ length: n }, () => r());
}
