import * as tf from '@tensorflow/tfjs';
import { MaskedGru } from './gru';
import type { Activation } from './layers';
import type { ParamScope } from './params';
import { type Sequences, stepTensors, stepTimes } from './sequences';
import { type NfeCounter, solveIntervals, type SolverConfig } from './solve';
import { NeuralVectorField } from './vector-field';

/** Configuration of an {@link OdeRnn}. */
export interface OdeRnnConfig {
  /** Sensors per reading D. */
  inputDim: number;
  /** Hidden state width H. */
  hiddenDim: number;
  /** Hidden widths of the ODE's vector field. */
  odeHidden: number[];
  activation?: Activation;
  /** Time as an input of the vector field (default false: autonomous). */
  timeInput?: boolean;
  /** Solver between observations (default: one 'euler' step per interval, backprop). */
  solver?: SolverConfig;
}

/** Result of {@link OdeRnn.run}. */
export interface OdeRnnRun {
  /** Final hidden states [B, H]. */
  h: tf.Tensor;
  /** Hidden states after every step (when asked), each [B, H]. */
  hs?: tf.Tensor[];
  /** Hidden states just before each step's update (when asked): the prior of that reading. */
  priors?: tf.Tensor[];
}

/**
 * ODE-RNN (Rubanova, Chen & Duvenaud, "Latent ODEs for irregularly-sampled time series", NeurIPS
 * 2019, Algorithm 1): between observations the hidden state follows a neural ODE dh/dt = f(h, t; θ)
 * (each sample over its own interval, batched), and at each observation a masked GRU folds the
 * reading in; readings with every sensor missing leave the evolved state untouched.
 */
export class OdeRnn {
  readonly field: NeuralVectorField;
  readonly gru: MaskedGru;

  /**
   * @param scope parameters ('field/...', 'gru/...')
   * @param config sizes and solver
   * @param params the model's variables (passed to the adjoint)
   */
  constructor(
    scope: ParamScope,
    readonly config: OdeRnnConfig,
    private readonly params: () => tf.Variable[],
  ) {
    this.field = new NeuralVectorField(scope.scope('field'), {
      dim: config.hiddenDim,
      hidden: config.odeHidden,
      activation: config.activation,
      timeInput: config.timeInput,
    });
    this.gru = new MaskedGru(scope.scope('gru'), config.inputDim, config.hiddenDim);
  }

  /** The solver settings in use. */
  get solver(): SolverConfig {
    return this.config.solver ?? { method: 'euler', gradient: 'backprop' };
  }

  /** Evolves hidden states h [B, H] from times t0 to t1 (per sample). */
  evolve(h: tf.Tensor, t0: ArrayLike<number>, t1: ArrayLike<number>, counter?: NfeCounter): tf.Tensor {
    const params = this.params();
    const f = (t: tf.Tensor, z: tf.Tensor) => this.field.apply(t, z);
    return solveIntervals(f, h, t0, t1, params, this.solver, counter, this.field.adjointVjp(params));
  }

  /**
   * Runs over a batch of sequences.
   *
   * @param seq readings, masks and per-sample times [T, B, ...]
   * @param options `reverse`: run from the last step to the first (the Latent ODE's encoder); `h0`:
   *   initial states [B, H] (default zeros) at the first step's times; `collect`: also return every
   *   step's posterior (`hs`) and prior (`priors`) states
   * @returns final states and, when asked, the per-step states (the caller disposes them)
   */
  run(
    seq: Sequences,
    options: { reverse?: boolean; h0?: tf.Tensor; collect?: boolean; counter?: NfeCounter } = {},
  ): OdeRnnRun {
    const { x, m } = stepTensors(seq);
    const order = Array.from({ length: seq.T }, (_, i) => (options.reverse ? seq.T - 1 - i : i));
    let h = options.h0 ? tf.clone(options.h0) : tf.zeros([seq.B, this.config.hiddenDim]);
    const hs: tf.Tensor[] = [];
    const priors: tf.Tensor[] = [];
    order.forEach((i, k) => {
      if (k > 0) {
        const next = this.evolve(h, stepTimes(seq, order[k - 1]), stepTimes(seq, i), options.counter);
        if (!options.collect) h.dispose();
        h = next;
      }
      if (options.collect) priors.push(h);
      const next = this.gru.update(h, x[i], m[i]);
      if (!options.collect) h.dispose();
      h = next;
      if (options.collect) hs.push(h);
    });
    x.forEach((t) => t.dispose());
    m.forEach((t) => t.dispose());
    return options.collect ? { h, hs, priors } : { h };
  }
}
