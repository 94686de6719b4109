import * as tf from '@tensorflow/tfjs';
import type { FieldVjpResult, PreparedFieldVjp } from '@continuum/ode';
import { type Activation, Dense } from './layers';
import { NeuralModel } from './model';
import { type CubicPath, evaluatePath, hermiteBackwardCubic, naturalCubicSpline } from './spline';
import { solveAt, type SolverConfig } from './solve';
import { NeuralVectorField } from './vector-field';

/** Configuration of a {@link NeuralCde}. */
export interface NeuralCdeConfig {
  /** Channels C of the control path X (include time as a channel, as Kidger et al. recommend). */
  inputChannels: number;
  /** Hidden state width H. */
  hiddenDim: number;
  /** Hidden widths of f. */
  fieldHidden: number[];
  /** Output width of the linear read-out. */
  outputDim: number;
  activation?: Activation;
  /** 'natural' cubic spline (offline, default) or 'hermite' backward-difference cubic (online, causal). */
  interpolation?: 'natural' | 'hermite';
  /** Solver (default dopri5, rtol 1e-3, atol 1e-4, adjoint). */
  solver?: SolverConfig;
  seed?: number;
}

/**
 * Neural controlled differential equation (Kidger, Morrill, Foster & Lyons, "Neural controlled
 * differential equations for irregular time series", NeurIPS 2020): z(t0) = ζ(X(t0)),
 * dz = f(z; θ) dX(t), i.e. dz/dt = f(z) · dX/dt with f(z) a [H, C] matrix (tanh-bounded MLP output), X a
 * cubic interpolation of the observations; the read-out is linear in z(T). Solved knot interval by
 * knot interval with `odeint` / `odeintAdjoint` (the derivative of X is smooth inside each interval),
 * warm-starting each interval's first step.
 */
export class NeuralCde extends NeuralModel<NeuralCdeConfig> {
  readonly kind = 'neural-cde';
  readonly initial: Dense;
  readonly field: NeuralVectorField;
  readonly readout: Dense;

  constructor(config: NeuralCdeConfig) {
    super(config);
    const s = this.params.scope('cde');
    this.initial = new Dense(s.scope('initial'), config.inputChannels, config.hiddenDim);
    this.field = new NeuralVectorField(s.scope('field'), {
      dim: config.hiddenDim,
      hidden: config.fieldHidden,
      outDim: config.hiddenDim * config.inputChannels,
      activation: config.activation ?? 'relu',
      finalActivation: 'tanh',
    });
    this.readout = new Dense(s.scope('readout'), config.hiddenDim, config.outputDim);
  }

  get solver(): SolverConfig {
    return this.config.solver ?? { method: 'dopri5', rtol: 1e-3, atol: 1e-4, gradient: 'adjoint' };
  }

  /** The control path of observations [n, B, C] on shared knots, by the configured interpolation. */
  path(knots: number[], values: ArrayLike<number>, B: number): CubicPath {
    const interpolate =
      (this.config.interpolation ?? 'natural') === 'natural' ? naturalCubicSpline : hermiteBackwardCubic;
    return interpolate(knots, values, B, this.config.inputChannels);
  }

  /**
   * Solves the CDE along `path`.
   *
   * @returns hidden states at every knot [n, B, H] and the read-out of the last one [B, outputDim]
   */
  forward(path: CubicPath): { zs: tf.Tensor; output: tf.Tensor } {
    const { B, C, knots } = path;
    const H = this.config.hiddenDim;
    const S = B * C;
    let z = this.initial.apply(tf.tensor2d(evaluatePath(path, knots[0]), [B, C]));
    const zs: tf.Tensor[] = [z];
    const params = this.variables();
    for (let i = 0; i + 1 < knots.length; i++) {
      const k = i * S;
      const bi = tf.tensor2d(path.b.subarray(k, k + S), [B, C]);
      const ci = tf.tensor2d(path.c.subarray(k, k + S), [B, C]);
      const di = tf.tensor2d(path.d.subarray(k, k + S), [B, C]);
      const ti = knots[i];
      // dX/dt of the cubic piece: b + 2c τ + 3d τ², τ = t − t_i; [B, C].
      const dXdt = (t: tf.Tensor) => {
        const tau = tf.sub(t, ti);
        return tf.add(bi, tf.mul(tau, tf.add(tf.mul(ci, 2), tf.mul(tf.mul(di, 3), tau))));
      };
      const f = (t: tf.Tensor, y: tf.Tensor): tf.Tensor => {
        const g = tf.reshape(this.field.apply(t, y), [B, H, C]);
        return tf.squeeze(tf.matMul(g, tf.expandDims(dXdt(t), 2)), [2]);
      };
      const vjp = this.controlledVjp(params, dXdt, B);
      const ys = solveAt(f, z, [ti, knots[i + 1]], params, this.solver, this.nfe, vjp);
      z = tf.squeeze(tf.slice(ys, [1, 0, 0], [1, -1, -1]), [0]);
      if ((this.solver.gradient ?? 'adjoint') === 'adjoint') this.nfe.retain(bi, ci, di);
      zs.push(z);
    }
    return { zs: tf.stack(zs), output: this.readout.apply(z) };
  }

  /**
   * VJP of the controlled field F(t, z) = g(z)·dX/dt (g = the field's output as [B, H, C]) from the
   * field's hand-written VJP: vᵀ∂F/∂(z, θ) = wᵀ∂g/∂(z, θ) with w[b, h·C + c] = v[b, h]·dX/dt[b, c] (the
   * outer product per sample, in the field's row-major [H, C] output layout).
   */
  private controlledVjp(params: tf.Variable[], dXdt: (t: tf.Tensor) => tf.Tensor, B: number): PreparedFieldVjp {
    const H = this.config.hiddenDim;
    const C = this.config.inputChannels;
    const field = this.field.adjointVjp(params);
    return {
      prepare: () => {
        const inner = field.prepare();
        return {
          vjp: (t, z, v) =>
            tf.tidy(() => {
              const dX = dXdt(t);
              const w = tf.reshape(tf.mul(tf.expandDims(v, 2), tf.expandDims(dX, 1)), [B, H * C]);
              const r = inner.vjp(t, z, w);
              const g = tf.reshape(r.value as tf.Tensor, [B, H, C]);
              const value = tf.squeeze(tf.matMul(g, tf.expandDims(dX, 2)), [2]);
              return { value, dy: r.dy, dParams: r.dParams };
            }) as FieldVjpResult,
          release: inner.release,
        };
      },
    };
  }
}
