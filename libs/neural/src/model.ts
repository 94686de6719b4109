import type * as tf from '@tensorflow/tfjs';
import { ParamStore } from './params';
import { Rng } from './random';
import { NfeCounter } from './solve';

/** What every serialisable model shares: a kind, a JSON config (with its seed) and named parameters. */
export abstract class NeuralModel<C extends { seed?: number } = { seed?: number }> {
  /** Registry key used by `loadModel`. */
  abstract readonly kind: string;
  /** Trainable parameters, created deterministically from `config.seed`. */
  readonly params: ParamStore;
  /** Function evaluations of every solve this model runs ("effective depth"); read with `nfe.take()`. */
  readonly nfe = new NfeCounter();
  /** Generator of the model's sampling noise (reparameterisation), seeded from `config.seed`. */
  readonly rng: Rng;

  constructor(readonly config: C) {
    this.params = new ParamStore(new Rng(config.seed ?? 0));
    this.rng = new Rng((config.seed ?? 0) + 7919);
  }

  /** The trainable variables (what the adjoint and the optimizer see). */
  variables(): tf.Variable[] {
    return this.params.list();
  }

  dispose(): void {
    this.params.dispose();
  }
}
