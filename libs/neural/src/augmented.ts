import * as tf from '@tensorflow/tfjs';
import { type Activation, Dense } from './layers';
import { NeuralModel } from './model';
import { solveAt, type SolverConfig } from './solve';
import { NeuralVectorField } from './vector-field';

/** Configuration of an {@link AugmentedNeuralOde}. */
export interface AugmentedNodeConfig {
  /** Input features. */
  inputDim: number;
  /** Extra zero-initialised dimensions (0: a plain Neural ODE). */
  augmentDim: number;
  /** Hidden widths of the vector field. */
  hidden: number[];
  /** Output width of the linear read-out of the final state. */
  outputDim: number;
  activation?: Activation;
  timeInput?: boolean;
  /** Integration horizon (default 1). */
  t1?: number;
  /** Solver (default dopri5, rtol 1e-3, atol 1e-3, adjoint). */
  solver?: SolverConfig;
  seed?: number;
}

/**
 * Neural ODE map x ↦ W h(T) + b with h' = f(h, t), h(0) = x, and its augmented variant (Dupont, Doucet &
 * Teh, "Augmented neural ODEs", NeurIPS 2019): the state is [x, 0_p] with p extra dimensions, which lets
 * the flow represent maps (such as separating concentric annuli) that a homeomorphism of the input
 * space cannot, with simpler, cheaper (fewer NFE) flows.
 */
export class AugmentedNeuralOde extends NeuralModel<AugmentedNodeConfig> {
  readonly kind = 'augmented-node';
  readonly field: NeuralVectorField;
  readonly readout: Dense;

  constructor(config: AugmentedNodeConfig) {
    super(config);
    const s = this.params.scope('anode');
    const dim = config.inputDim + config.augmentDim;
    this.field = new NeuralVectorField(s.scope('field'), {
      dim,
      hidden: config.hidden,
      activation: config.activation ?? 'relu',
      timeInput: config.timeInput,
    });
    this.readout = new Dense(s.scope('readout'), dim, config.outputDim);
  }

  get solver(): SolverConfig {
    return this.config.solver ?? { method: 'dopri5', rtol: 1e-3, atol: 1e-3, gradient: 'adjoint' };
  }

  /** @param x [B, inputDim] @returns [B, outputDim] */
  forward(x: tf.Tensor): tf.Tensor {
    const h0 = this.config.augmentDim > 0 ? tf.concat([x, tf.zeros([x.shape[0], this.config.augmentDim])], 1) : x;
    const params = this.variables();
    const ys = solveAt(
      (t, h) => this.field.apply(t, h),
      h0,
      [0, this.config.t1 ?? 1],
      params,
      this.solver,
      this.nfe,
      this.field.adjointVjp(params),
    );
    const hT = tf.squeeze(tf.slice(ys, [1, 0, 0], [1, -1, -1]), [0]);
    return this.readout.apply(hT);
  }
}
