import * as tf from '@tensorflow/tfjs';
import { LatentOde, OdeRnnModel, type NeuralModel, type Sequences, type SolverConfig } from '@continuum/neural';
import type { Hyperparameters, ModelKind } from '../jobs/job-spec';

/** A model being trained and how to score it. */
export interface Trainable {
  model: NeuralModel;
  /** Whether batches need a shared time axis (Latent ODE) or per-sample clocks (ODE-RNN). */
  sharedTimes: boolean;
  /** The training loss of a batch and its parts (nll, kl, mse). */
  loss(seq: Sequences): { loss: tf.Scalar; parts: Record<string, number> };
}

/** The solver config a job's model gets. */
export function solverConfig(method: string, gradient: 'adjoint' | 'backprop', hp: Hyperparameters): SolverConfig {
  return { method, gradient, rtol: hp.rtol, atol: hp.atol, maxSteps: 2000 };
}

/**
 * Builds the model of a job: an ODE-RNN with a Gaussian read-out (the twin's filter form, trained on
 * the one-step-ahead NLL) or a Latent ODE (ELBO: reconstruction NLL + KL). `augment` adds zero-start
 * dimensions to the ODE state (augmented Neural ODE).
 */
export function buildModel(kind: ModelKind, D: number, hp: Hyperparameters, solver: SolverConfig): Trainable {
  if (kind === 'latent-ode') {
    const model = new LatentOde({
      obsDim: D,
      latentDim: hp.hidden + hp.augment,
      recHidden: hp.hidden,
      dynHidden: hp.odeHidden,
      solver,
      seed: hp.seed,
    });
    return {
      model,
      sharedTimes: true,
      loss: (seq) => {
        const r = model.loss(seq, seq);
        return { loss: r.loss, parts: { nll: r.nll, kl: r.kl, mse: r.mse } };
      },
    };
  }
  const model = new OdeRnnModel({
    obsDim: D,
    hiddenDim: hp.hidden + hp.augment,
    odeHidden: hp.odeHidden,
    solver,
    seed: hp.seed,
  });
  return {
    model,
    sharedTimes: false,
    loss: (seq) => {
      const r = model.loss(seq);
      return { loss: r.loss, parts: { nll: r.nll, mse: r.mse } };
    },
  };
}
