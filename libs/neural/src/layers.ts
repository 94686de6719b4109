import * as tf from '@tensorflow/tfjs';
import { wasmKernelsTuned } from '@continuum/ode';
import type { ParamScope } from './params';

/** Hidden-layer activations. 'tanh' is computed as 2σ(2x) − 1 (2.7x faster on the WASM backend). */
export type Activation = 'tanh' | 'relu' | 'softplus' | 'sigmoid' | 'elu' | 'linear';

/** Applies an activation. */
export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'tanh':
      // tanh(x) = 2σ(2x) − 1: tf.tanh is slow on WASM (docs/MEASUREMENTS).
      return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
    case 'relu':
      return tf.relu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}

/**
 * Affine layer y = x W + b with W stored pre-transposed as [in, out] (matMul with transposeB is 13-15x
 * slower on WASM).
 */
export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  /**
   * @param scope where the parameters live ('w' [in, out], 'b' [out])
   * @param inDim input width
   * @param outDim output width
   * @param init 'glorot' (default) or 'zeros' for the weights (the bias starts at zero)
   */
  constructor(
    scope: ParamScope,
    readonly inDim: number,
    readonly outDim: number,
    init: 'glorot' | 'zeros' = 'glorot',
  ) {
    this.w = scope.create('w', [inDim, outDim], init);
    this.b = scope.create('b', [outDim], 'zeros');
  }

  apply(x: tf.Tensor): tf.Tensor {
    return affine(x, this.w, this.b);
  }
}

/**
 * x W + b as one custom-gradient op whose backward pass transposes explicitly (dx = dy · transpose(W),
 * dW = transpose(x) · dy): TensorFlow.js's own matMul gradient uses transposeA/transposeB, which is
 * 13-15x slower on WASM (docs/MEASUREMENTS). The same arithmetic, so the gradient is unchanged.
 */
const affineOp = tf.customGrad((...args: unknown[]) => {
  const [x, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  const save = args[3] as (t: tf.Tensor[]) => void;
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
    },
  };
});

/** y = x W + b for x [B, in], W [in, out], b [out], with a WASM-friendly gradient. */
export function affine(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return (affineOp as (...xs: tf.Tensor[]) => tf.Tensor)(x, w, b);
}

/** y = x W (no bias) with the same WASM-friendly gradient as {@link affine}. */
export function matmul(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return (matmulOp as (...xs: tf.Tensor[]) => tf.Tensor)(x, w);
}

const matmulOp = tf.customGrad((...args: unknown[]) => {
  const [x, w] = args as [tf.Tensor2D, tf.Tensor2D];
  const save = args[2] as (t: tf.Tensor[]) => void;
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g)];
    },
  };
});

/** An affine layer and its activation with the weights on the host (row-major [in, out]), in double precision. */
export interface HostDenseLayer {
  inDim: number;
  outDim: number;
  w: Float64Array;
  b: Float64Array;
  activation: Activation;
}

/** Copies a layer's weights to the host (a tensor read: once per model, not per evaluation). */
export function hostLayer(w: tf.Tensor, b: tf.Tensor, activation: Activation): HostDenseLayer {
  const [inDim, outDim] = w.shape as [number, number];
  return { inDim, outDim, w: Float64Array.from(w.dataSync()), b: Float64Array.from(b.dataSync()), activation };
}

/** Configuration of an {@link Mlp}. */
export interface MlpConfig {
  /** Layer widths from input to output, e.g. [4, 20, 20, 4]. */
  widths: number[];
  /** Hidden activation (default 'tanh'). */
  activation?: Activation;
  /** Activation after the last layer (default 'linear'). */
  finalActivation?: Activation;
  /** Initialise the last layer's weights at zero (the MLP starts as the constant 0). */
  zeroLast?: boolean;
}

/** Multilayer perceptron: Dense layers with an activation between them. */
export class Mlp {
  readonly layers: Dense[];

  constructor(
    scope: ParamScope,
    readonly config: MlpConfig,
  ) {
    const w = config.widths;
    if (w.length < 2) throw new Error(`An MLP needs at least input and output widths, got [${w}]`);
    this.layers = [];
    for (let i = 0; i + 1 < w.length; i++)
      this.layers.push(
        new Dense(scope.scope(`l${i}`), w[i], w[i + 1], config.zeroLast && i + 2 === w.length ? 'zeros' : 'glorot'),
      );
  }

  /** The layers with their activations and the weights copied to the host (`host-kernels.ts`). */
  hostForm(): HostDenseLayer[] {
    const act = this.config.activation ?? 'tanh';
    const fin = this.config.finalActivation ?? 'linear';
    return this.layers.map((l, i) => hostLayer(l.w, l.b, i + 1 < this.layers.length ? act : fin));
  }

  apply(x: tf.Tensor): tf.Tensor {
    const act = this.config.activation ?? 'tanh';
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.apply(h);
      h = activate(h, i + 1 < this.layers.length ? act : (this.config.finalActivation ?? 'linear'));
    });
    return h;
  }
}

/**
 * Derivative of an activation, from its input `pre` and output `out` (the tanh form 2σ(2x) − 1 has
 * derivative 1 − out², σ has out·(1 − out)): the factor of the backward pass of {@link denseChainVjp}.
 */
export function activationGrad(activation: Activation, pre: tf.Tensor, out: tf.Tensor): tf.Tensor | null {
  switch (activation) {
    case 'tanh':
      return tf.sub(1, tf.square(out));
    case 'sigmoid':
      return tf.mul(out, tf.sub(1, out));
    case 'relu':
      return tf.step(pre);
    case 'softplus':
      return tf.sigmoid(pre);
    case 'elu':
      return tf.where(tf.greater(pre, 0), tf.onesLike(pre), tf.add(out, 1));
    case 'linear':
      return null;
  }
}

/**
 * Whether matMul with `transposeA` is as fast as an explicit transpose plus a plain product: on the
 * WASM backend only with libs/ode's tuned kernels (its own transposed-operand path is a naive loop).
 */
function transposedProductsFast(): boolean {
  return tf.getBackend() !== 'wasm' || wasmKernelsTuned();
}

/** One layer of a {@link denseChainVjp}: weights [in, out], bias [out], the activation after it. */
export interface ChainLayer {
  w: tf.Tensor;
  b: tf.Tensor;
  activation: Activation;
  /** wᵀ [out, in], if already computed (else transposed here). */
  wT?: tf.Tensor;
}

/**
 * Forward pass and hand-written vector–Jacobian product of a chain of affine layers with activations,
 * x_{k+1} = σ_k(x_k W_k + b_k (+ extra_k)), for x [B, in]:
 * returns the output, vᵀ∂out/∂x, and vᵀ∂out/∂(W_k, b_k) summed over the batch. Only plain matMuls:
 * dx_k = g_k · W_kᵀ with W_kᵀ transposed explicitly (or given pre-transposed in `wT`), dW_k = x_kᵀ · g_k
 * as a transposed-operand product where that is fast (libs/ode's tuned WASM kernels, other backends),
 * else with x_k transposed explicitly — the WASM backend's own transposed-operand matMul is 13-15x
 * slower (docs/MEASUREMENTS); no gradient tape.
 *
 * @param extra optional additive term of the first pre-activation (a time input), [B or 1, out_0]
 * @returns `out`, `dx`, `dW`, `db` per layer, and `dPre0` (the cotangent of the first pre-activation,
 *   for the gradient of `extra`)
 */
export function denseChainVjp(
  layers: readonly ChainLayer[],
  x: tf.Tensor,
  v: tf.Tensor,
  extra?: tf.Tensor,
): { out: tf.Tensor; dx: tf.Tensor; dW: tf.Tensor[]; db: tf.Tensor[]; dPre0: tf.Tensor } {
  const xs: tf.Tensor[] = [x];
  const pres: tf.Tensor[] = [];
  layers.forEach((l, k) => {
    let p: tf.Tensor = tf.fused.matMul({ a: xs[k] as tf.Tensor2D, b: l.w as tf.Tensor2D, bias: l.b });
    if (k === 0 && extra) p = tf.add(p, extra);
    pres.push(p);
    xs.push(activate(p, l.activation));
  });
  const dW: tf.Tensor[] = new Array(layers.length);
  const db: tf.Tensor[] = new Array(layers.length);
  let g = v;
  let dPre0 = v;
  for (let k = layers.length - 1; k >= 0; k--) {
    const l = layers[k];
    const dAct = activationGrad(l.activation, pres[k], xs[k + 1]);
    const gp = dAct ? tf.mul(g, dAct) : g;
    // xᵀ·g: a transposed-operand product where that is fast (the tuned WASM kernels' SIMD GEMM, no
    // transpose of x, no repacking of g; other backends natively), else an explicit transpose.
    dW[k] = transposedProductsFast()
      ? tf.matMul(xs[k] as tf.Tensor2D, gp as tf.Tensor2D, true, false)
      : tf.matMul(tf.transpose(xs[k]) as tf.Tensor2D, gp as tf.Tensor2D);
    db[k] = tf.sum(gp, 0);
    g = tf.matMul(gp as tf.Tensor2D, (l.wT ?? tf.transpose(l.w)) as tf.Tensor2D);
    if (k === 0) dPre0 = gp;
  }
  return { out: xs[xs.length - 1], dx: g, dW, db, dPre0 };
}
