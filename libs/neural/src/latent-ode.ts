import * as tf from '@tensorflow/tfjs';
import { type Activation, Mlp } from './layers';
import { klStandardNormal, logMeanExp, logNormal } from './likelihood';
import { NeuralModel } from './model';
import { OdeRnn } from './ode-rnn';
import type { Sequences } from './sequences';
import { solveAt, type SolverConfig } from './solve';
import { NeuralVectorField } from './vector-field';

/** Configuration of a {@link LatentOde}. Defaults follow Chen et al. 2018's spiral experiment. */
export interface LatentOdeConfig {
  /** Sensors D. */
  obsDim: number;
  /** Latent dimension L (4 in Chen et al.'s spirals). */
  latentDim: number;
  /** Recognition ODE-RNN hidden width (25). */
  recHidden: number;
  /** Hidden widths of the recognition ODE's field (default [recHidden]). */
  recOdeHidden?: number[];
  /** Hidden widths of the latent dynamics (default [20]). */
  dynHidden?: number[];
  /** Hidden widths of the decoder (default []: linear). */
  decoderHidden?: number[];
  /** Hidden widths of the recognition head h → (μ, log σ²) of z0 (default []). */
  z0Hidden?: number[];
  activation?: Activation;
  /** Time input of the latent dynamics (default false). */
  timeInput?: boolean;
  /** Initial observation noise std; learned per sensor unless `fixedObsStd` (default 0.1). */
  obsStd?: number;
  fixedObsStd?: boolean;
  /** Solver of the recognition ODE-RNN (default one 'euler' step per interval, backprop). */
  encoderSolver?: SolverConfig;
  /** Solver of the latent dynamics (default dopri5, rtol 1e-3, atol 1e-4, adjoint). */
  solver?: SolverConfig;
  seed?: number;
}

/** Loss parts of {@link LatentOde.loss} (numbers, per the batch). */
export interface ElboParts {
  /** The loss that is minimised: −ELBO (or −IWAE bound) per observed value. */
  loss: tf.Scalar;
  /** Mean Gaussian NLL per observed value. */
  nll: number;
  /** Mean KL(q(z0|x) ‖ p(z0)) per sample. */
  kl: number;
  /** Mean squared error of the predicted means over observed values. */
  mse: number;
}

/** Predictive distribution of {@link LatentOde.predict}: flattened [T, B, D], times in `times`. */
export interface Prediction {
  times: number[];
  T: number;
  B: number;
  D: number;
  mean: Float32Array;
  std: Float32Array;
  /** Per-sample means [S, T, B, D] (for plots or quantiles). */
  samples: Float32Array;
}

/**
 * Latent ODE (Rubanova, Chen & Duvenaud, "Latent ODEs for irregularly-sampled time series", NeurIPS
 * 2019; Chen et al., "Neural ordinary differential equations", NeurIPS 2018, §5): an ODE-RNN encoder run
 * backwards in time over the irregular, masked observations gives q(z0 | x) = N(μ, σ²); z0 is sampled
 * with the reparameterisation trick; one solve of the latent neural ODE gives z at every requested
 * time at once; a decoder maps z(t) to sensor means, with learned per-sensor variances. Trained on the
 * ELBO (masked Gaussian likelihood + KL), optionally the importance-weighted bound (Burda et al. 2016).
 */
export class LatentOde extends NeuralModel<LatentOdeConfig> {
  readonly kind = 'latent-ode';
  readonly encoder: OdeRnn;
  readonly toZ0: Mlp;
  readonly dynamics: NeuralVectorField;
  readonly decoder: Mlp;
  readonly logVar: tf.Variable;

  constructor(config: LatentOdeConfig) {
    super(config);
    const s = this.params.scope('latent-ode');
    const vars = () => this.variables();
    this.encoder = new OdeRnn(
      s.scope('encoder'),
      {
        inputDim: config.obsDim,
        hiddenDim: config.recHidden,
        odeHidden: config.recOdeHidden ?? [config.recHidden],
        activation: config.activation,
        solver: config.encoderSolver,
      },
      vars,
    );
    this.toZ0 = new Mlp(s.scope('z0'), {
      widths: [config.recHidden, ...(config.z0Hidden ?? []), 2 * config.latentDim],
      activation: config.activation,
    });
    this.dynamics = new NeuralVectorField(s.scope('dynamics'), {
      dim: config.latentDim,
      hidden: config.dynHidden ?? [20],
      activation: config.activation ?? 'tanh',
      timeInput: config.timeInput,
    });
    this.decoder = new Mlp(s.scope('decoder'), {
      widths: [config.latentDim, ...(config.decoderHidden ?? []), config.obsDim],
      activation: config.activation,
    });
    this.logVar = s.create('logvar', [config.obsDim], 2 * Math.log(config.obsStd ?? 0.1));
    if (config.fixedObsStd) this.logVar.trainable = false;
  }

  override variables(): tf.Variable[] {
    return this.params.list().filter((v) => v.trainable);
  }

  /** The latent solver settings in use. */
  get solver(): SolverConfig {
    return this.config.solver ?? { method: 'dopri5', rtol: 1e-3, atol: 1e-4, gradient: 'adjoint' };
  }

  /**
   * q(z0 | x): runs the recognition ODE-RNN backwards over `seq`.
   *
   * @returns μ and log σ² of z0 at the first time of `seq`, each [B, L]
   */
  encode(seq: Sequences): { mean: tf.Tensor; logVar: tf.Tensor } {
    const { h } = this.encoder.run(seq, { reverse: true, counter: this.nfe });
    const out = this.toZ0.apply(h);
    const [mean, logVar] = tf.split(out, 2, 1);
    return { mean, logVar };
  }

  /** z0 = μ + σ ε for `samples` draws of ε (from the model's seeded generator): [samples · B, L], sample-major. */
  sampleZ0(mean: tf.Tensor, logVar: tf.Tensor, samples: number): tf.Tensor {
    const [B, L] = mean.shape;
    const eps = tf.tensor3d(this.rng.normals(samples * B * L), [samples, B, L]);
    return tf.reshape(tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)), [samples * B, L]);
  }

  /**
   * Solves the latent ODE from z0 at t0 to every time in `times` (≥ t0, increasing) in one solve.
   *
   * @returns z at `times`, [times.length, N, L]
   */
  latentTrajectory(z0: tf.Tensor, t0: number, times: number[]): tf.Tensor {
    const ts = times[0] === t0 ? times : [t0, ...times];
    if (ts.length === 1) return tf.expandDims(z0, 0);
    const params = this.variables();
    const f = (t: tf.Tensor, z: tf.Tensor) => this.dynamics.apply(t, z);
    const zs = solveAt(f, z0, ts, params, this.solver, this.nfe, this.dynamics.adjointVjp(params));
    return ts === times ? zs : tf.slice(zs, [1, 0, 0], [times.length, -1, -1]);
  }

  /** Decoder: z [..., L] → sensor means [..., D]. */
  decode(z: tf.Tensor): tf.Tensor {
    const shape = z.shape;
    const flat = tf.reshape(z, [-1, this.config.latentDim]);
    return tf.reshape(this.decoder.apply(flat), [...shape.slice(0, -1), this.config.obsDim]);
  }

  /**
   * Negative ELBO of `target` given the encoding of `observed` (the same batch for interpolation, its
   * first part for extrapolation). Both are on shared time axes (see `unionSeries`); target times must
   * not precede observed.times[0] (where z0 lives).
   *
   * @param observed what the encoder sees
   * @param target what the decoder must explain, with its mask
   * @param options `samples` K of z0 per series (default 1); `iwae`: importance-weighted bound over
   *   the K samples instead of the ELBO with analytic KL; `klWeight` (default 1, annealing)
   * @returns the loss tensor and its parts
   */
  loss(
    observed: Sequences,
    target: Sequences,
    options: { samples?: number; iwae?: boolean; klWeight?: number } = {},
  ): ElboParts {
    const K = options.samples ?? 1;
    const B = target.B;
    const { mean, logVar } = this.encode(observed);
    const z0 = this.sampleZ0(mean, logVar, K);
    const times = Array.from({ length: target.T }, (_, i) => target.times[i * B]);
    const zs = this.latentTrajectory(z0, observed.times[0], times);
    const mu = tf.reshape(this.decode(zs), [target.T, K, B, target.D]);
    const x = tf.expandDims(tf.tensor3d(target.values, [target.T, B, target.D]), 1);
    const m = tf.expandDims(tf.tensor3d(target.mask, [target.T, B, target.D]), 1);
    const nObs = target.mask.reduce((a, b) => a + b, 0);
    const perObs = Math.max(nObs / B, 1);
    // NLL per (sample k, series b): [K, B] — the masked Gaussian NLL summed over times and sensors.
    const nllKB = maskedNllKB(x, mu, this.logVar, m);
    const kl = klStandardNormal(mean, logVar);
    const klw = options.klWeight ?? 1;
    let loss: tf.Scalar;
    if (options.iwae && K > 1) {
      const z = tf.reshape(z0, [K, B, this.config.latentDim]);
      const logW = tf.sub(
        tf.add(tf.neg(nllKB), tf.mul(logNormal(z, tf.zerosLike(z), tf.zerosLike(z)), klw)),
        tf.mul(logNormal(z, mean, logVar), klw),
      );
      loss = tf.div(tf.neg(tf.mean(logMeanExp(logW, 0))), perObs) as tf.Scalar;
    } else loss = tf.div(tf.add(tf.mean(nllKB), tf.mul(tf.mean(kl), klw)), perObs) as tf.Scalar;
    const mse = tf.div(tf.sum(tf.mul(tf.square(tf.sub(x, mu)), m)), Math.max(nObs * K, 1));
    const parts = {
      loss,
      nll: (tf.mean(nllKB).dataSync()[0] as number) / perObs,
      kl: tf.mean(kl).dataSync()[0] as number,
      mse: mse.dataSync()[0] as number,
    };
    return parts;
  }

  /**
   * Predictive distribution at `times` (interpolation inside the observed window, extrapolation after
   * it) by sampling z0 from q(z0 | observed) `samples` times: mean = average of the decoded means,
   * variance = their spread plus the observation variance.
   */
  predict(observed: Sequences, times: number[], samples = 20): Prediction {
    return tf.tidy(() => {
      const B = observed.B;
      const D = this.config.obsDim;
      const { mean, logVar } = this.encode(observed);
      const z0 = this.sampleZ0(mean, logVar, samples);
      const zs = this.latentTrajectory(z0, observed.times[0], times);
      const mu = tf.reshape(this.decode(zs), [times.length, samples, B, D]);
      const m = tf.mean(mu, 1);
      const v = tf.add(tf.mean(tf.square(tf.sub(mu, tf.expandDims(m, 1))), 1), tf.exp(this.logVar));
      return {
        times,
        T: times.length,
        B,
        D,
        mean: m.dataSync() as Float32Array,
        std: Float32Array.from(v.dataSync(), Math.sqrt),
        samples: tf.transpose(mu, [1, 0, 2, 3]).dataSync() as Float32Array,
      };
    });
  }
}

/** Σ over time (axis 0) and sensors (axis 3) of the masked Gaussian NLL of x [T,1,B,D] under mu [T,K,B,D]: [K, B]. */
function maskedNllKB(x: tf.Tensor, mu: tf.Tensor, logVar: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const sq = tf.square(tf.sub(x, mu));
  const terms = tf.mul(tf.add(tf.add(logVar, Math.log(2 * Math.PI)), tf.mul(sq, tf.exp(tf.neg(logVar)))), 0.5);
  return tf.sum(tf.mul(terms, mask), [0, 3]);
}
