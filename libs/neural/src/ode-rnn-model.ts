import * as tf from '@tensorflow/tfjs';
import { type Activation, Mlp } from './layers';
import { NeuralModel } from './model';
import { OdeRnn } from './ode-rnn';
import type { Sequences } from './sequences';
import type { SolverConfig } from './solve';

/** Configuration of an {@link OdeRnnModel}. */
export interface OdeRnnModelConfig {
  /** Sensors D. */
  obsDim: number;
  /** Hidden width H. */
  hiddenDim: number;
  /** Hidden widths of the ODE's field (default [H]). */
  odeHidden?: number[];
  /** Hidden widths of the decoder h → (mean, log variance) (default []). */
  decoderHidden?: number[];
  activation?: Activation;
  timeInput?: boolean;
  /** Solver between readings (default one 'euler' step per interval, backprop). */
  solver?: SolverConfig;
  seed?: number;
}

/**
 * ODE-RNN with a Gaussian read-out (Rubanova, Chen & Duvenaud 2019, §3): the hidden state evolves by a
 * neural ODE between readings and a masked GRU folds each reading in; a decoder maps the state at any
 * time to sensor means and variances. Trained on the one-step-ahead masked Gaussian NLL: each reading
 * is scored under the prediction made just before it is folded in, so predictions at times without
 * readings (interpolation, extrapolation) come from the evolved state. This is the model behind the
 * online filter ({@link OnlineFilter}).
 */
export class OdeRnnModel extends NeuralModel<OdeRnnModelConfig> {
  readonly kind = 'ode-rnn';
  readonly rnn: OdeRnn;
  readonly decoder: Mlp;

  constructor(config: OdeRnnModelConfig) {
    super(config);
    const s = this.params.scope('ode-rnn');
    this.rnn = new OdeRnn(
      s.scope('rnn'),
      {
        inputDim: config.obsDim,
        hiddenDim: config.hiddenDim,
        odeHidden: config.odeHidden ?? [config.hiddenDim],
        activation: config.activation,
        timeInput: config.timeInput,
        solver: config.solver,
      },
      () => this.variables(),
    );
    this.decoder = new Mlp(s.scope('decoder'), {
      widths: [config.hiddenDim, ...(config.decoderHidden ?? []), 2 * config.obsDim],
      activation: config.activation,
    });
  }

  /** Sensor means and log variances from hidden states [B, H]: each [B, D]. */
  readout(h: tf.Tensor): { mean: tf.Tensor; logVar: tf.Tensor } {
    const [mean, logVar] = tf.split(this.decoder.apply(h), 2, 1);
    return { mean, logVar };
  }

  /**
   * One-step-ahead masked Gaussian NLL per observed value, and the MSE of the means.
   *
   * @param seq batch (per-sample times; masked steps are predicted but not scored)
   */
  loss(seq: Sequences): { loss: tf.Scalar; nll: number; mse: number } {
    const run = this.rnn.run(seq, { collect: true, counter: this.nfe });
    const priors = tf.stack(run.priors as tf.Tensor[]); // [T, B, H]
    const flat = tf.reshape(priors, [seq.T * seq.B, this.config.hiddenDim]);
    const { mean, logVar } = this.readout(flat);
    const x = tf.tensor2d(seq.values, [seq.T * seq.B, seq.D]);
    const m = tf.tensor2d(seq.mask, [seq.T * seq.B, seq.D]);
    const n = Math.max(
      seq.mask.reduce((a, b) => a + b, 0),
      1,
    );
    const sq = tf.square(tf.sub(x, mean));
    const terms = tf.mul(tf.add(tf.add(logVar, Math.log(2 * Math.PI)), tf.mul(sq, tf.exp(tf.neg(logVar)))), 0.5);
    const loss = tf.div(tf.sum(tf.mul(terms, m)), n) as tf.Scalar;
    const mse = tf.div(tf.sum(tf.mul(sq, m)), n);
    return { loss, nll: loss.dataSync()[0], mse: mse.dataSync()[0] };
  }

  /**
   * Predictions (mean, std) at every step of `seq` from the state before that step's reading: for
   * masked steps (dropped points, future times) this is interpolation / extrapolation.
   *
   * @returns flattened [T, B, D]
   */
  predictSteps(seq: Sequences): { mean: Float32Array; std: Float32Array } {
    return tf.tidy(() => {
      const run = this.rnn.run(seq, { collect: true, counter: this.nfe });
      const flat = tf.reshape(tf.stack(run.priors as tf.Tensor[]), [seq.T * seq.B, this.config.hiddenDim]);
      const { mean, logVar } = this.readout(flat);
      return {
        mean: mean.dataSync() as Float32Array,
        std: Float32Array.from(logVar.dataSync(), (v) => Math.exp(0.5 * v)),
      };
    });
  }
}
