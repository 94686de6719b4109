import * as tf from '@tensorflow/tfjs';
import { activate, Dense, Mlp, type Activation } from './layers';
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
   * @param t time: scalar tensor or [B, 1]
   * @param z state [B, dim]
   * @returns dz/dt [B, outDim ?? dim]
   */
  apply(t: tf.Tensor, z: tf.Tensor): tf.Tensor {
    let h = this.first.apply(z);
    if (this.wt) h = tf.add(h, tf.mul(t.rank === 0 ? tf.reshape(t, [1, 1]) : t, this.wt));
    if (!this.rest) return activate(h, this.config.finalActivation ?? 'linear');
    return this.rest.apply(activate(h, this.config.activation ?? 'tanh'));
  }
}
