/**
 * Reference problems with exact solutions, shared by every test (as torchdiffeq's `tests/problems.py`
 * and diffrax's DETEST set). Each problem is autonomous-or-not, smooth, and non-stiff.
 */
import type { MethodName } from '../tableaux';

export interface ReferenceProblem {
  readonly name: string;
  readonly f: (t: number, y: Float64Array) => number[];
  readonly y0: readonly number[];
  readonly t0: number;
  /** End of the standard interval. */
  readonly t1: number;
  readonly exact: (t: number) => number[];
  /** Largest |y_i| over [t0, t1], to turn rtol into an absolute error scale. */
  readonly maxAbs: number;
}

/** y' = -y, y(0) = 1: contractive, exact exp(-t). */
export const EXPONENTIAL_DECAY: ReferenceProblem = {
  name: 'exponential_decay',
  f: (_t, y) => [-y[0]],
  y0: [1],
  t0: 0,
  t1: 10,
  exact: (t) => [Math.exp(-t)],
  maxAbs: 1,
};

/** x'' = -x written as (x, v): neutrally stable, exact (cos t, -sin t). */
export const HARMONIC_OSCILLATOR: ReferenceProblem = {
  name: 'harmonic_oscillator',
  f: (_t, y) => [y[1], -y[0]],
  y0: [1, 0],
  t0: 0,
  t1: 20 * Math.PI,
  exact: (t) => [Math.cos(t), -Math.sin(t)],
  maxAbs: 1,
};

/** Non-autonomous, nonlinear: y' = y·cos(t), exact exp(sin t). Exercises the c-nodes of a tableau. */
export const NONAUTONOMOUS: ReferenceProblem = {
  name: 'nonautonomous',
  f: (t, y) => [y[0] * Math.cos(t)],
  y0: [1],
  t0: 0,
  t1: 6,
  exact: (t) => [Math.exp(Math.sin(t))],
  maxAbs: Math.E,
};

export const PROBLEMS: readonly ReferenceProblem[] = [EXPONENTIAL_DECAY, HARMONIC_OSCILLATOR, NONAUTONOMOUS];

/** Every method with its classical order. */
export const METHOD_ORDERS: readonly { method: MethodName; order: number }[] = [
  { method: 'euler', order: 1 },
  { method: 'midpoint', order: 2 },
  { method: 'rk4', order: 4 },
  { method: 'bosh3', order: 3 },
  { method: 'dopri5', order: 5 },
  { method: 'tsit5', order: 5 },
];

/** The methods with an embedded error estimate (adaptive). */
export const ADAPTIVE_METHODS: readonly MethodName[] = ['bosh3', 'dopri5', 'tsit5'];

/** Largest absolute difference between two vectors. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Least-squares slope of log(err) against log(h). */
export function logLogSlope(hs: readonly number[], errs: readonly number[]): number {
  const x = hs.map(Math.log);
  const y = errs.map(Math.log);
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let num = 0;
  let den = 0;
  x.forEach((xi, i) => {
    num += (xi - mx) * (y[i] - my);
    den += (xi - mx) ** 2;
  });
  return num / den;
}

/**
 * A small tanh MLP vector field with fixed, seeded weights, in plain float64 (for comparing the
 * tensor backend against the float64 one): f(y) = W3 tanh(W2 tanh(W1 y + b1) + b2) + b3, weights
 * scaled so the dynamics are smooth and O(1).
 */
export interface Mlp {
  readonly d: number;
  readonly hidden: number;
  /** Weights stored [in, out] (pre-transposed for `matMul(x, W)`), row-major. */
  readonly w: readonly Float64Array[];
  readonly b: readonly Float64Array[];
}

/** Deterministic pseudo-random numbers (mulberry32) in [-1, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** Builds an MLP d → hidden → hidden → d with Glorot-like uniform weights from `seed`. */
export function makeMlp(d: number, hidden: number, seed: number): Mlp {
  const rand = seededUniform(seed);
  const dims = [d, hidden, hidden, d];
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 0; l < 3; l++) {
    const [nin, nout] = [dims[l], dims[l + 1]];
    const scale = Math.sqrt(6 / (nin + nout));
    w.push(Float64Array.from({ length: nin * nout }, () => rand() * scale));
    b.push(Float64Array.from({ length: nout }, () => rand() * 0.1));
  }
  return { d, hidden, w, b };
}

/** Evaluates the MLP on one state in float64. */
export function mlpForward(mlp: Mlp, y: ArrayLike<number>): Float64Array {
  let x = Float64Array.from(y);
  const dims = [mlp.d, mlp.hidden, mlp.hidden, mlp.d];
  for (let l = 0; l < 3; l++) {
    const [nin, nout] = [dims[l], dims[l + 1]];
    const out = Float64Array.from(mlp.b[l]);
    const w = mlp.w[l];
    for (let i = 0; i < nin; i++) {
      const xi = x[i];
      for (let j = 0; j < nout; j++) out[j] += xi * w[i * nout + j];
    }
    if (l < 2) for (let j = 0; j < nout; j++) out[j] = Math.tanh(out[j]);
    x = out;
  }
  return x;
}
