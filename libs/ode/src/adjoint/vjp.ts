import * as tf from '@tensorflow/tfjs';

/** The fields of TensorFlow.js's engine state that a nested gradient computation must not disturb. */
interface TapeState {
  activeTape: unknown;
  gradientDepth: number;
  kernelDepth: number;
}

/**
 * Vector–Jacobian product through TensorFlow.js autodiff: evaluates `y = fn()` on a fresh tape and
 * returns `y` with `dyᵀ ∂y/∂x` for every `x` in `xs` (zeros where `y` does not depend on `x`).
 *
 * The adjoint's backward pass runs inside a custom gradient, that is, in the middle of the caller's
 * own backpropagation. TensorFlow.js does not support a gradient computation nested there: the inner
 * `engine.gradients` replaces the outer tape (`startTape` at depth 0) and then clears it
 * (`activeTape = null`), so the outer pass fails with "Cannot read properties of null (reading
 * 'forEach')" and leaks the outer tape's saved tensors. This helper gives the inner computation an
 * isolated tape and restores the outer tape state afterwards, whatever the depth it was called at.
 *
 * @param fn computes y from tensors that include `xs` (closures over variables work)
 * @param xs tensors to differentiate with respect to
 * @param dy cotangent, the shape of y
 * @returns `value` (y, owned by the caller) and `grads` (one per x, owned by the caller)
 */
export function vjp(
  fn: () => tf.Tensor,
  xs: readonly tf.Tensor[],
  dy: tf.Tensor,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  const saved: TapeState = {
    activeTape: state.activeTape,
    gradientDepth: state.gradientDepth,
    kernelDepth: state.kernelDepth,
  };
  state.activeTape = null;
  state.gradientDepth = 0;
  state.kernelDepth = 0;
  try {
    const { value, grads } = tf.engine().gradients(fn, xs as tf.Tensor[], dy, true);
    return { value, grads: grads.map((g, i) => g ?? tf.zerosLike(xs[i])) };
  } finally {
    state.activeTape = saved.activeTape;
    state.gradientDepth = saved.gradientDepth;
    state.kernelDepth = saved.kernelDepth;
  }
}
