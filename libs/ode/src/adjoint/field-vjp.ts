import * as tf from '@tensorflow/tfjs';
import { checkArgument, OdeError } from '../errors';
import type { TensorField } from '../odeint';
import { vjp as autodiffVjp } from './vjp';

/** What a hand-written vector–Jacobian product returns (tensors owned by the caller). */
export interface FieldVjpResult {
  /** f(t, y), when the product computed it anyway (it usually does: it needs the activations). Else f is called. */
  value?: tf.Tensor;
  /** vᵀ ∂f/∂y, the shape of y. */
  dy: tf.Tensor;
  /** vᵀ ∂f/∂θ for every tensor in `params`, in the same order and shapes. */
  dParams: tf.Tensor[];
}

/**
 * A hand-written vector–Jacobian product of the vector field: given t (scalar tensor), y ([B, d]) and a
 * cotangent v (the shape of f(t, y)), returns vᵀ ∂f/∂y and vᵀ ∂f/∂θ for the `params` of
 * `odeintAdjoint` (summed over the batch). Optional: without it the product comes from TensorFlow.js
 * autodiff of f.
 */
export type FieldVjpFn = (t: tf.Tensor, y: tf.Tensor, v: tf.Tensor) => FieldVjpResult;

/**
 * A VJP with per-backward-pass preparation: `prepare()` is called once at the start of every backward
 * pass (after any optimizer update of the weights) and returns the product to use for that pass, e.g.
 * one that multiplies by weight matrices transposed once in `prepare` rather than at every evaluation;
 * `release` (if any) runs at the end of the pass and frees what `prepare` allocated.
 */
export interface PreparedFieldVjp {
  prepare(): { vjp: FieldVjpFn; release?: () => void };
}

/** `options.vjp` / `f.vjp` of `odeintAdjoint`. */
export type FieldVjp = FieldVjpFn | PreparedFieldVjp;

/** A vector field that carries its own VJP (`odeintAdjoint` uses it unless `options.vjp` is given). */
export type TensorFieldWithVjp = TensorField & { vjp?: FieldVjp };

/** The VJP used by one backward pass: f and the products w.r.t. y and params from one call. */
export interface ActiveVjp {
  /** Computes f(t, y) and vᵀ∂f/∂y, vᵀ∂f/∂θ (all owned by the caller). */
  run(t: tf.Tensor, y: tf.Tensor, v: tf.Tensor): { value: tf.Tensor; grads: tf.Tensor[] };
  release(): void;
  /** 'autodiff' or 'analytic'. */
  readonly kind: 'autodiff' | 'analytic';
}

/** Validates `options.vjp` / `f.vjp` (at the call of odeintAdjoint, not during backpropagation). */
export function checkFieldVjp(v: unknown, where: string): FieldVjp | undefined {
  if (v === undefined || v === null) return undefined;
  checkArgument(
    typeof v === 'function' || (typeof v === 'object' && typeof (v as PreparedFieldVjp).prepare === 'function'),
    `${where} must be a function (t, y, v) => { dy, dParams } or an object with prepare()`,
  );
  return v as FieldVjp;
}

/** Starts a backward pass's VJP: the hand-written one when given, TensorFlow.js autodiff of f otherwise. */
export function startVjp(f: TensorField, params: readonly tf.Tensor[], given: FieldVjp | undefined): ActiveVjp {
  if (given === undefined)
    return {
      kind: 'autodiff',
      run: (t, y, v) => autodiffVjp(() => f(t, y), [y, ...params], v),
      release: () => undefined,
    };
  const session = typeof given === 'function' ? { vjp: given } : given.prepare();
  return {
    kind: 'analytic',
    run: (t, y, v) => {
      const r = session.vjp(t, y, v);
      if (!r || !(r.dy instanceof tf.Tensor) || !Array.isArray(r.dParams) || r.dParams.length !== params.length)
        throw new OdeError(
          'bad_arguments',
          `The vjp must return { dy: tensor, dParams: one tensor per param (${params.length}) }`,
        );
      r.dParams.forEach((g, i) => {
        if (!tf.util.arraysEqual(g.shape, params[i].shape))
          throw new OdeError(
            'bad_arguments',
            `The vjp returned dParams[${i}] of shape [${g.shape}] for params[${i}] of shape [${params[i].shape}]`,
          );
      });
      if (!tf.util.arraysEqual(r.dy.shape, y.shape))
        throw new OdeError('bad_arguments', `The vjp returned dy of shape [${r.dy.shape}] for y of shape [${y.shape}]`);
      return { value: r.value ?? f(t, y), grads: [r.dy, ...r.dParams] };
    },
    release: () => session.release?.(),
  };
}
