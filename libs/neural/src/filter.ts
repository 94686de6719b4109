import * as tf from '@tensorflow/tfjs';
import { odeintIntervals, type IntervalsResult } from '@continuum/ode';
import type { OdeRnnModel } from './ode-rnn-model';

/** State of a batch of machines in an {@link OnlineFilter}: owned tensors, replaced by each call. */
export interface FilterState {
  /** Hidden states [M, H]. */
  h: tf.Tensor;
  /** Each machine's current time. */
  t: Float64Array;
  /** Warm-start step (rescaled time) of the next advance: diffrax-style resumable solves. */
  step: number;
  /** Function evaluations of the last advance. */
  nfe: number;
}

/**
 * The online (filter) form of an ODE-RNN for the twin, batched over machines: `advance` evolves every
 * machine's state over its own interval in one `odeintIntervals` solve (warm-started with the previous
 * solve's proposed step), `update` folds a (partial) reading in through the masked GRU, `predict`
 * gives sensor means and standard deviations. Calls take a state and return a new one, disposing the
 * old state's tensor. Not differentiable (runs in `tf.tidy` without a tape).
 */
export class OnlineFilter {
  /** @param model a trained ODE-RNN (its solver settings are used; fixed-step methods take one step) */
  constructor(readonly model: OdeRnnModel) {}

  /** Fresh states (zeros) for `machines` machines at time `t0`. */
  init(machines: number, t0: number | ArrayLike<number> = 0): FilterState {
    const t = new Float64Array(machines);
    for (let i = 0; i < machines; i++) t[i] = typeof t0 === 'number' ? t0 : t0[i];
    return { h: tf.zeros([machines, this.model.config.hiddenDim]), t, step: 0, nfe: 0 };
  }

  /**
   * Evolves every machine by `dt` (a number, or one per machine; zero leaves a machine as it is).
   *
   * @returns the new state (the old state's tensor is disposed)
   */
  advance(state: FilterState, dt: number | ArrayLike<number>): FilterState {
    const M = state.t.length;
    const t1 = new Float64Array(M);
    for (let i = 0; i < M; i++) t1[i] = state.t[i] + (typeof dt === 'number' ? dt : dt[i]);
    const cfg = this.model.rnn.solver;
    const field = this.model.rnn.field;
    let r: IntervalsResult | undefined;
    const y = tf.tidy(() => {
      r = odeintIntervals((t, z) => field.apply(t, z), state.h, state.t, t1, {
        ...(cfg.method !== undefined ? { method: cfg.method as never } : {}),
        rtol: cfg.rtol,
        atol: cfg.atol,
        stepSize: cfg.stepSize,
        ...(state.step > 0 && cfg.stepSize === undefined ? { firstStep: state.step } : {}),
      });
      return r.y;
    });
    state.h.dispose();
    const res = r as IntervalsResult;
    return { h: y, t: t1, step: Math.abs(res.nextStep) || state.step, nfe: res.stats.nfe };
  }

  /**
   * Folds readings in.
   *
   * @param reading [M, D] values (Float32Array row-major or tensor); masked entries are ignored
   * @param mask [M, D], 1 where a sensor reported; an all-zero row leaves that machine unchanged
   * @returns the new state (the old state's tensor is disposed)
   */
  update(state: FilterState, reading: ArrayLike<number> | tf.Tensor, mask: ArrayLike<number> | tf.Tensor): FilterState {
    const M = state.t.length;
    const D = this.model.config.obsDim;
    const h = tf.tidy(() => {
      const x = reading instanceof tf.Tensor ? reading : tf.tensor2d(Float32Array.from(reading), [M, D]);
      const m = mask instanceof tf.Tensor ? mask : tf.tensor2d(Float32Array.from(mask), [M, D]);
      return this.model.rnn.gru.update(state.h, x, m);
    });
    state.h.dispose();
    return { ...state, h };
  }

  /** Sensor means and standard deviations of every machine now: each [M · D], row-major. */
  predict(state: FilterState): { mean: Float32Array; std: Float32Array } {
    return tf.tidy(() => {
      const { mean, logVar } = this.model.readout(state.h);
      return {
        mean: mean.dataSync() as Float32Array,
        std: Float32Array.from(logVar.dataSync(), (v) => Math.exp(0.5 * v)),
      };
    });
  }
}
