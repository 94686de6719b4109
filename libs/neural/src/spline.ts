/**
 * Piecewise-cubic interpolation of batched observations on shared knots t_0 < … < t_{n−1}: on
 * [t_i, t_{i+1}], X(t) = a_i + b_i τ + c_i τ² + d_i τ³ with τ = t − t_i. Coefficients are
 * Float32Arrays [n − 1, B, C].
 */
export interface CubicPath {
  knots: number[];
  B: number;
  C: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  d: Float32Array;
}

function check(knots: number[], values: ArrayLike<number>, B: number, C: number): void {
  if (knots.length < 2) throw new Error('A cubic path needs at least two knots');
  for (let i = 1; i < knots.length; i++)
    if (!(knots[i] > knots[i - 1]))
      throw new Error(`Knots must increase strictly (t[${i - 1}]=${knots[i - 1]}, t[${i}]=${knots[i]})`);
  if (values.length !== knots.length * B * C)
    throw new Error(`Expected ${knots.length}·${B}·${C} values ([n, B, C]), got ${values.length}`);
}

/**
 * Natural cubic spline through the observations (second derivative 0 at both ends), as Kidger,
 * Morrill, Foster & Lyons ("Neural controlled differential equations for irregular time series",
 * NeurIPS 2020) use for offline Neural CDEs. Not causal: the path at t depends on later observations.
 *
 * @param knots observation times [n]
 * @param values [n, B, C] row-major (fill missing values before, e.g. forward-fill plus an
 *   observed-count channel, as Kidger et al. do)
 */
export function naturalCubicSpline(knots: number[], values: ArrayLike<number>, B: number, C: number): CubicPath {
  check(knots, values, B, C);
  const n = knots.length;
  const h = Array.from({ length: n - 1 }, (_, i) => knots[i + 1] - knots[i]);
  const S = B * C;
  const a = new Float32Array((n - 1) * S);
  const b = new Float32Array((n - 1) * S);
  const c = new Float32Array((n - 1) * S);
  const d = new Float32Array((n - 1) * S);
  const M = new Float64Array(n);
  const cp = new Float64Array(n);
  const dp = new Float64Array(n);
  for (let s = 0; s < S; s++) {
    const x = (i: number) => values[i * S + s];
    // Tridiagonal system for the second derivatives M_1..M_{n−2} (Thomas algorithm), M_0 = M_{n−1} = 0.
    M.fill(0);
    if (n > 2) {
      for (let i = 1; i < n - 1; i++) {
        const lower = h[i - 1];
        const diag = 2 * (h[i - 1] + h[i]);
        const upper = h[i];
        const rhs = 6 * ((x(i + 1) - x(i)) / h[i] - (x(i) - x(i - 1)) / h[i - 1]);
        const denom = diag - (i > 1 ? lower * cp[i - 1] : 0);
        cp[i] = upper / denom;
        dp[i] = (rhs - (i > 1 ? lower * dp[i - 1] : 0)) / denom;
      }
      for (let i = n - 2; i >= 1; i--) M[i] = dp[i] - (i < n - 2 ? cp[i] * M[i + 1] : 0);
    }
    for (let i = 0; i < n - 1; i++) {
      const k = i * S + s;
      a[k] = x(i);
      b[k] = (x(i + 1) - x(i)) / h[i] - (h[i] * (2 * M[i] + M[i + 1])) / 6;
      c[k] = M[i] / 2;
      d[k] = (M[i + 1] - M[i]) / (6 * h[i]);
    }
  }
  return { knots, B, C, a, b, c, d };
}

/**
 * Cubic Hermite interpolation with backward differences (Morrill, Kidger, Yang & Lyons, "Neural
 * controlled differential equations for online prediction tasks", 2021): the derivative at knot i is
 * the backward difference (x_i − x_{i−1}) / (t_i − t_{i−1}) (the forward one at knot 0), so the path on
 * [t_i, t_{i+1}] depends only on observations up to t_{i+1}: causal, usable online.
 */
export function hermiteBackwardCubic(knots: number[], values: ArrayLike<number>, B: number, C: number): CubicPath {
  check(knots, values, B, C);
  const n = knots.length;
  const S = B * C;
  const a = new Float32Array((n - 1) * S);
  const b = new Float32Array((n - 1) * S);
  const c = new Float32Array((n - 1) * S);
  const d = new Float32Array((n - 1) * S);
  for (let s = 0; s < S; s++) {
    const x = (i: number) => values[i * S + s];
    const slope = (i: number) => (x(i) - x(i - 1)) / (knots[i] - knots[i - 1]);
    for (let i = 0; i < n - 1; i++) {
      const dt = knots[i + 1] - knots[i];
      const m0 = i === 0 ? slope(1) : slope(i);
      const m1 = slope(i + 1);
      const delta = (x(i + 1) - x(i)) / dt;
      const k = i * S + s;
      a[k] = x(i);
      b[k] = m0;
      c[k] = (3 * delta - 2 * m0 - m1) / dt;
      d[k] = (m0 + m1 - 2 * delta) / (dt * dt);
    }
  }
  return { knots, B, C, a, b, c, d };
}

/** Evaluates X(t) (or dX/dt with `derivative`) of every sample: [B · C]. Clamps t to the knots' range. */
export function evaluatePath(path: CubicPath, t: number, derivative = false): Float32Array {
  const { knots } = path;
  let i = 0;
  while (i < knots.length - 2 && t > knots[i + 1]) i++;
  const tau = Math.min(Math.max(t, knots[0]), knots[knots.length - 1]) - knots[i];
  const S = path.B * path.C;
  const out = new Float32Array(S);
  for (let s = 0; s < S; s++) {
    const k = i * S + s;
    out[s] = derivative
      ? path.b[k] + 2 * path.c[k] * tau + 3 * path.d[k] * tau * tau
      : path.a[k] + tau * (path.b[k] + tau * (path.c[k] + tau * path.d[k]));
  }
  return out;
}
