import * as tf from '@tensorflow/tfjs';
import type { FieldVjpResult, PreparedFieldVjp } from '@continuum/ode';
import {
  activate,
  Dense,
  denseChainVjp,
  hostLayer,
  Mlp,
  type Activation,
  type ChainLayer,
  type HostDenseLayer,
} from './layers';
import type { ParamScope } from './params';

/** Configuration of a {@link NeuralVectorField}. */
export interface VectorFieldConfig {
  /** State dimension d (the augmented dimensions included). */
  dim: number;
  /** Hidden widths, e.g. [20] or [64, 64]. */
  hidden: number[];
  /** Hidden activation (default 'tanh'). */
  activation?: Activation;
  /** Feed t to the first layer (non-autonomous field); default false. */
  timeInput?: boolean;
  /** Activation on the output (e.g. 'tanh' to bound a CDE's matrix field); default 'linear'. */
  finalActivation?: Activation;
  /** Output width when it differs from `dim` (a Neural CDE's field outputs d × input channels). */
  outDim?: number;
}

/**
 * Neural vector field f(z, t; θ) = MLP([z, t]) (Chen, Rubanova, Bettencourt & Duvenaud, "Neural
 * ordinary differential equations", NeurIPS 2018). The time input enters the first layer as a separate
 * weight row (z W_z + t w_t + b), so no concatenation is needed; `t` may be a scalar (shared time) or
 * [B, 1] (each sample's own time).
 */
export class NeuralVectorField {
  private readonly first: Dense;
  private readonly wt?: tf.Variable;
  private readonly rest: Mlp | null;
  private op: ((...args: tf.Tensor[]) => tf.Tensor) | undefined;

  constructor(
    scope: ParamScope,
    readonly config: VectorFieldConfig,
  ) {
    const out = config.outDim ?? config.dim;
    const widths = [config.dim, ...config.hidden, out];
    this.first = new Dense(scope.scope('in'), widths[0], widths[1]);
    if (config.timeInput) this.wt = scope.create('wt', [1, widths[1]], 'glorot');
    this.rest =
      widths.length > 2
        ? new Mlp(scope.scope('mlp'), {
            widths: widths.slice(1),
            activation: config.activation ?? 'tanh',
            finalActivation: config.finalActivation,
          })
        : null;
  }

  /**
   * f(t, z) as one custom-gradient op whose backward pass is the hand-written vector–Jacobian product
   * ({@link NeuralVectorField.vjp}): TensorFlow.js autodiff of a solve through this field (the
   * adjoint's `tf.grads` per evaluation, or backprop through `odeint`) then records one op per
   * evaluation instead of about 15, and its gradient uses only plain matMuls (WASM-friendly). The
   * arithmetic is the same as the layer-by-layer form, so values and gradients are unchanged.
   *
   * @param t time: scalar tensor or [B, 1]
   * @param z state [B, dim]
   * @returns dz/dt [B, outDim ?? dim]
   */
  apply(t: tf.Tensor, z: tf.Tensor): tf.Tensor {
    const vars = this.params();
    this.op ??= tf.customGrad((...args: unknown[]) => {
      const [zz, tt] = args as tf.Tensor[];
      const save = args[args.length - 1] as (t: tf.Tensor[]) => void;
      // The solver disposes z and t after the step: the backward pass must use saved copies.
      save([zz, tt]);
      return {
        value: this.applyLayers(tt, zz),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const v = Array.isArray(dy) ? dy[0] : dy;
          const r = this.vjpWith(this.chain(), saved[1], saved[0], v, true);
          r.value.dispose();
          return [r.dz, r.dt as tf.Tensor, ...r.dParams];
        },
      };
    });
    return (this.op as (...xs: tf.Tensor[]) => tf.Tensor)(z, t, ...vars);
  }

  /** The layer-by-layer form of {@link apply} (reference for tests; TensorFlow.js autodiff through each op). */
  applyLayers(t: tf.Tensor, z: tf.Tensor): tf.Tensor {
    let h = this.first.apply(z);
    if (this.wt) h = tf.add(h, tf.mul(t.rank === 0 ? tf.reshape(t, [1, 1]) : t, this.wt));
    if (!this.rest) return activate(h, this.config.finalActivation ?? 'linear');
    return this.rest.apply(activate(h, this.config.activation ?? 'tanh'));
  }

  /**
   * The field's weights copied to the host (read once, here): its affine layers with their
   * activations and the time row, for evaluating it without tensors (`host-kernels.ts`).
   */
  hostForm(): { layers: HostDenseLayer[]; wt: Float64Array | null } {
    return {
      layers: this.chain().map((l) => hostLayer(l.w, l.b, l.activation)),
      wt: this.wt ? Float64Array.from(this.wt.dataSync()) : null,
    };
  }

  /** The field's variables in the order of {@link vjp}'s `dParams`: [w, b of the first layer, wt?, w, b of each further layer]. */
  params(): tf.Variable[] {
    const out: tf.Variable[] = [this.first.w, this.first.b];
    if (this.wt) out.push(this.wt);
    for (const l of this.rest?.layers ?? []) out.push(l.w, l.b);
    return out;
  }

  /** The affine layers with their activations (optionally with their weights pre-transposed). */
  private chain(transposed = false): ChainLayer[] {
    const act = this.config.activation ?? 'tanh';
    const fin = this.config.finalActivation ?? 'linear';
    const dense = [this.first, ...(this.rest?.layers ?? [])];
    return dense.map((l, k) => ({
      w: l.w,
      b: l.b,
      activation: k + 1 < dense.length ? act : fin,
      wT: transposed ? tf.transpose(l.w) : undefined,
    }));
  }

  /**
   * Hand-written vector–Jacobian product: f(t, z) and vᵀ∂f/∂z, vᵀ∂f/∂θ for θ = {@link params} (summed
   * over the batch), with only plain matMuls (no transposed-operand kernels, no tape). Agrees with
   * TensorFlow.js autodiff of {@link applyLayers} to float32 round-off (unit-tested).
   *
   * @param t scalar or [B, 1]; @param z [B, dim]; @param v cotangent [B, outDim ?? dim]
   */
  vjp(t: tf.Tensor, z: tf.Tensor, v: tf.Tensor): { value: tf.Tensor; dz: tf.Tensor; dParams: tf.Tensor[] } {
    const r = this.vjpWith(this.chain(), t, z, v, false);
    return { value: r.value, dz: r.dz, dParams: r.dParams };
  }

  private vjpWith(
    chain: ChainLayer[],
    t: tf.Tensor,
    z: tf.Tensor,
    v: tf.Tensor,
    withTime: boolean,
  ): { value: tf.Tensor; dz: tf.Tensor; dt?: tf.Tensor; dParams: tf.Tensor[] } {
    return tf.tidy(() => {
      const tcol = t.rank === 0 ? tf.reshape(t, [1, 1]) : t;
      const extra = this.wt ? tf.mul(tcol, this.wt) : undefined;
      const r = denseChainVjp(chain, z, v, extra);
      const dParams: tf.Tensor[] = [r.dW[0], r.db[0]];
      let dt: tf.Tensor | undefined;
      if (this.wt) {
        // ∂(t·w_t)/∂w_t: Σ_b t_b g_b (t shared: t·Σ_b g_b); ∂/∂t: g · w_tᵀ.
        dParams.push(
          t.rank === 0
            ? tf.mul(tf.sum(r.dPre0, 0, true), t)
            : tf.matMul(tf.transpose(tcol) as tf.Tensor2D, r.dPre0 as tf.Tensor2D),
        );
        if (withTime) {
          const gt = tf.sum(tf.mul(r.dPre0, this.wt), 1, true);
          dt = t.rank === 0 ? tf.sum(gt) : tf.reshape(gt, t.shape);
        }
      } else if (withTime) dt = tf.zerosLike(t);
      for (let k = 1; k < chain.length; k++) dParams.push(r.dW[k], r.db[k]);
      return { value: r.out, dz: r.dx, ...(dt ? { dt } : {}), dParams };
    }) as { value: tf.Tensor; dz: tf.Tensor; dt?: tf.Tensor; dParams: tf.Tensor[] };
  }

  /**
   * The hand-written VJP in `odeintAdjoint`'s `vjp` option form, for a solve whose `params` list is
   * `params` (the model's variables; any that are not this field's get zero): the weights are
   * transposed once per backward pass (`prepare`), not at every evaluation.
   *
   *   odeintAdjoint((t, z) => field.apply(t, z), z0, ts, params, { vjp: field.adjointVjp(params) })
   */
  adjointVjp(params: readonly tf.Tensor[]): PreparedFieldVjp {
    const own = this.params();
    const index = params.map((p) => own.indexOf(p as tf.Variable));
    return {
      prepare: () => {
        const chain = this.chain(true);
        chain.forEach((l) => l.wT && tf.keep(l.wT));
        const vjp = (t: tf.Tensor, z: tf.Tensor, v: tf.Tensor): FieldVjpResult => {
          const r = this.vjpWith(chain, t, z, v, false);
          return {
            value: r.value,
            dy: r.dz,
            dParams: index.map((i, k) => (i >= 0 ? r.dParams[i] : tf.zerosLike(params[k]))),
          };
        };
        return { vjp, release: () => chain.forEach((l) => l.wT?.dispose()) };
      },
    };
  }
}
