import * as tf from '@tensorflow/tfjs';

/** Name of the fused linear-combination kernel (registered for the WASM backend by `tuneWasmKernels`). */
export const LIN_COMB = 'ContinuumLinComb';

let gradientRegistered = false;

/**
 * Registers the gradient of {@link LIN_COMB} (d/dx_i Σ c_j x_j = c_i), so that autodiff through a
 * solve (backprop through `odeint`) sees the fused combination like the ops it replaces. Idempotent.
 */
export function registerLinCombGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: LIN_COMB,
    gradFunc: (dy, _saved, attrs) => {
      const { coeffs } = attrs as unknown as { coeffs: number[] };
      const g = Array.isArray(dy) ? dy[0] : dy;
      const out: Record<string, () => tf.Tensor> = {};
      coeffs.forEach((c, i) => {
        out[`x${i}`] = () => (c === 1 ? tf.clone(g) : tf.mul(g, c));
      });
      return out;
    },
  });
}

/**
 * Σ coeffs[i]·xs[i] as one kernel (float32 products then sums, in order: the values of
 * `addN([xs[0]·c0, xs[1]·c1, …])`), where the current backend has {@link LIN_COMB} (the tuned WASM
 * backend); null otherwise, or for fewer than two terms, mixed shapes or non-float32 tensors (the
 * caller then composes tf.mul and tf.addN). A Runge–Kutta stage combination is then one kernel
 * call instead of one multiply per term plus an addN.
 */
export function fusedLinComb(xs: readonly tf.Tensor[], coeffs: readonly number[]): tf.Tensor | null {
  if (xs.length < 2 || xs[0].size === 0 || !tf.getKernel(LIN_COMB, tf.getBackend())) return null;
  const shape = xs[0].shape;
  const inputs: Record<string, tf.Tensor> = {};
  for (let i = 0; i < xs.length; i++) {
    if (xs[i].dtype !== 'float32' || !tf.util.arraysEqual(xs[i].shape, shape)) return null;
    inputs[`x${i}`] = xs[i];
  }
  return tf.engine().runKernel(LIN_COMB, inputs, { coeffs: [...coeffs] }) as tf.Tensor;
}

/** Name of the flattening concatenation kernel (registered for the WASM backend by `tuneWasmKernels`). */
export const FLAT_CONCAT = 'ContinuumFlatConcat';

let flatGradientRegistered = false;

/** Registers the gradient of {@link FLAT_CONCAT} (each input gets its slice of dy, in its shape). Idempotent. */
export function registerFlatConcatGradient(): void {
  if (flatGradientRegistered) return;
  flatGradientRegistered = true;
  tf.registerGradient({
    kernelName: FLAT_CONCAT,
    gradFunc: (dy, _saved, attrs) => {
      const { shapes } = attrs as unknown as { shapes: number[][] };
      const g = Array.isArray(dy) ? dy[0] : dy;
      const out: Record<string, () => tf.Tensor> = {};
      let offset = 0;
      shapes.forEach((shape, i) => {
        const start = offset;
        const size = tf.util.sizeFromShape(shape);
        out[`x${i}`] = () => tf.reshape(tf.slice(g, [start], [size]), shape);
        offset += size;
      });
      return out;
    },
  });
}

/**
 * The entries of `xs` flattened and concatenated into one 1-D tensor, as one kernel (a copy per
 * input) where the current backend has {@link FLAT_CONCAT} (the tuned WASM backend): the same values
 * as `tf.concat(xs.map((x) => tf.reshape(x, [-1])))`, which it replaces (one op instead of one per
 * input plus the concatenation). Null otherwise, or for non-float32 inputs.
 */
export function fusedFlatConcat(xs: readonly tf.Tensor[]): tf.Tensor | null {
  if (xs.length === 0 || !tf.getKernel(FLAT_CONCAT, tf.getBackend())) return null;
  const inputs: Record<string, tf.Tensor> = {};
  for (let i = 0; i < xs.length; i++) {
    if (xs[i].dtype !== 'float32') return null;
    inputs[`x${i}`] = xs[i];
  }
  return tf.engine().runKernel(FLAT_CONCAT, inputs, { shapes: xs.map((x) => [...x.shape]) }) as tf.Tensor;
}
