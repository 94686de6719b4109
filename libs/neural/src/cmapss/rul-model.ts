import * as tf from '@tensorflow/tfjs';
import { type Activation, Mlp } from '../layers';
import { NeuralModel } from '../model';
import { OdeRnn } from '../ode-rnn';
import type { Sequences } from '../sequences';
import type { SolverConfig } from '../solve';

/** Configuration of a {@link RulOdeRnn}. */
export interface RulModelConfig {
  /** Input channels (selected sensors + cycle channel). */
  inputDim: number;
  hiddenDim: number;
  odeHidden: number[];
  headHidden: number[];
  activation?: Activation;
  /** RUL cap: the head predicts RUL / cap. */
  rulCap: number;
  solver?: SolverConfig;
  seed?: number;
}

/**
 * Remaining-useful-life regressor on the latent state of an ODE-RNN (Rubanova et al. 2019): the hidden
 * state is evolved by a neural ODE over each engine's own (possibly irregular) cycle times and updated
 * by the masked GRU at every reading; an MLP head maps the final state to RUL / cap.
 */
export class RulOdeRnn extends NeuralModel<RulModelConfig> {
  readonly kind = 'cmapss-rul-ode-rnn';
  readonly rnn: OdeRnn;
  readonly head: Mlp;

  constructor(config: RulModelConfig) {
    super(config);
    const s = this.params.scope('rul');
    this.rnn = new OdeRnn(
      s.scope('rnn'),
      {
        inputDim: config.inputDim,
        hiddenDim: config.hiddenDim,
        odeHidden: config.odeHidden,
        activation: config.activation,
        solver: config.solver,
      },
      () => this.variables(),
    );
    this.head = new Mlp(s.scope('head'), {
      widths: [config.hiddenDim, ...config.headHidden, 1],
      activation: config.activation ?? 'relu',
    });
  }

  /** Predicted RUL / cap at the last reading of each sequence: [B] (unclipped; what training fits). */
  forward(seq: Sequences): tf.Tensor {
    const { h } = this.rnn.run(seq, { counter: this.nfe });
    return tf.reshape(this.head.apply(h), [seq.B]);
  }

  /**
   * Predicted RUL in cycles at the last reading of each sequence, clipped to [0, rulCap]: the target is
   * piecewise linear and never exceeds the cap (Heimes 2008), so a raw head output above it (or below
   * zero) is always further from the truth than the bound itself.
   */
  predictCycles(seq: Sequences): Float32Array {
    const cap = this.config.rulCap;
    const raw = tf.tidy(() => this.forward(seq).dataSync() as Float32Array);
    return raw.map((x) => clipRul(x * cap, cap));
  }
}

/** Clips a RUL prediction (cycles) to [0, cap]; NaN stays NaN (a diverged model must show). */
export function clipRul(rul: number, cap: number): number {
  return Math.min(cap, Math.max(0, rul));
}
