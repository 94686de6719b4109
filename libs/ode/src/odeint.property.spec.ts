import fc from 'fast-check';
import { odeint } from './odeint';

/**
 * Property tests of the solver API on random well-posed problems: linear systems y' = A y with
 * A = -S + K, S symmetric positive definite (S = B Bᵀ + c I, c ≥ 0.2) and K skew-symmetric. For
 * every vector v, vᵀ A v = -vᵀ S v ≤ -c |v|², so the system contracts in the Euclidean norm
 * (logarithmic norm μ₂(A) ≤ -c < 0) and every eigenvalue has real part ≤ -c: the problems are
 * stable and, with entries of at most a few units over at most 5 time units, not stiff.
 *
 * Reference: y(t) = expm(A t) y0, with expm by scaling and squaring of a 24-term Taylor series
 * (checked against closed forms below).
 */

type Matrix = number[][];

const matVec = (a: Matrix, v: ArrayLike<number>) => a.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
const matMul = (a: Matrix, b: Matrix) =>
  a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
const identity = (d: number): Matrix =>
  Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => +(i === j)));
const norm2 = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const sub = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (x, i) => x - b[i]);

/** expm(M): M / 2^s has 1-norm ≤ 1/2, Taylor to 24 terms (remainder < 0.5^25/25! ≈ 2e-33), squared s times. */
function expm(m: Matrix): Matrix {
  const d = m.length;
  const norm1 = Math.max(...m[0].map((_, j) => m.reduce((s, row) => s + Math.abs(row[j]), 0)));
  const s = Math.max(0, Math.ceil(Math.log2(norm1 / 0.5)));
  const x = m.map((row) => row.map((v) => v / 2 ** s));
  let term = identity(d);
  let sum = identity(d);
  for (let k = 1; k <= 24; k++) {
    term = matMul(term, x).map((row) => row.map((v) => v / k));
    sum = sum.map((row, i) => row.map((v, j) => v + term[i][j]));
  }
  for (let i = 0; i < s; i++) sum = matMul(sum, sum);
  return sum;
}

describe('expm (the reference)', () => {
  it('matches closed forms: a diagonal matrix and a damped rotation', () => {
    const e = expm([
      [-1.5, 0],
      [0, 0.3],
    ]);
    expect(e[0][0]).toBeCloseTo(Math.exp(-1.5), 14);
    expect(e[1][1]).toBeCloseTo(Math.exp(0.3), 14);
    // [[a, -w], [w, a]] -> e^a [[cos w, -sin w], [sin w, cos w]], here with a large norm (squarings).
    const [a, w] = [-0.7, 9];
    const r = expm([
      [a, -w],
      [w, a],
    ]);
    const ea = Math.exp(a);
    expect(r[0][0]).toBeCloseTo(ea * Math.cos(w), 12);
    expect(r[0][1]).toBeCloseTo(-ea * Math.sin(w), 12);
    expect(r[1][0]).toBeCloseTo(ea * Math.sin(w), 12);
  });
});

/** A random stable linear problem: A = -(B Bᵀ + c I) + (K - Kᵀ), y0, an end time and output times. */
const linearProblem = fc
  .integer({ min: 1, max: 4 })
  .chain((d) =>
    fc.record({
      b: fc.array(fc.array(fc.double({ min: -1.2, max: 1.2, noNaN: true }), { minLength: d, maxLength: d }), {
        minLength: d,
        maxLength: d,
      }),
      k: fc.array(fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: d, maxLength: d }), {
        minLength: d,
        maxLength: d,
      }),
      c: fc.double({ min: 0.2, max: 1, noNaN: true }),
      y0: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: d, maxLength: d }),
      tEnd: fc.double({ min: 0.5, max: 5, noNaN: true }),
      outputs: fc.array(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { minLength: 1, maxLength: 8 }),
    }),
  )
  .map(({ b, k, c, y0, tEnd, outputs }) => {
    const d = y0.length;
    const a: Matrix = b.map((_, i) =>
      b.map((__, j) => {
        const s = b[i].reduce((acc, x, l) => acc + x * b[j][l], 0) + (i === j ? c : 0);
        return -s + (k[i][j] - k[j][i]);
      }),
    );
    const ts = [0, ...[...new Set(outputs.map((f) => f * tEnd))].sort((x, y) => x - y), tEnd];
    if (norm2(y0) < 0.1) y0[0] = 1; // a zero state would be integrated in one step of any size
    return { a, y0, ts, c, d };
  });

const tolerances = fc.record({
  rtol: fc.constantFrom(1e-4, 1e-6, 1e-8),
  atol: fc.constantFrom(1e-6, 1e-9),
});

describe.each(['dopri5', 'tsit5'] as const)('odeint %s on random stable linear systems (float64)', (method) => {
  it('stays within the error its tolerances allow of expm(A t) y0', () => {
    fc.assert(
      fc.property(linearProblem, tolerances, ({ a, y0, ts, d }, { rtol, atol }) => {
        const sol = odeint((_t, y) => matVec(a, y), y0, ts, { method, rtol, atol });
        const yMax = Math.max(...y0.map(Math.abs)) * Math.sqrt(d); // |y(t)|₂ ≤ |y0|₂ (contraction)
        // Each accepted step's error estimate is ≤ 1 in the weighted RMS norm, so its local error is
        // ≤ √d (atol + rtol |y|∞) in the Euclidean norm; a contraction does not amplify earlier
        // local errors, so the global error is at most their sum. Factor 2: the estimate is that of
        // the embedded solution, and outputs between steps come from the (4th-order) dense output
        // (the bound held with factor 1 on 500 random problems per method).
        const bound = 2 * sol.stats.accepted * Math.sqrt(d) * (atol + rtol * yMax);
        for (let i = 1; i < ts.length; i++) {
          const exact = matVec(expm(a.map((row) => row.map((v) => v * ts[i]))), y0);
          const err = norm2(sub(sol.ys[i], exact));
          if (!(err <= bound))
            throw new Error(`t=${ts[i]}: error ${err} > bound ${bound} (naccept ${sol.stats.accepted}, rtol ${rtol})`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives a dense output whose ODE residual y_d′ − A y_d is small', () => {
    fc.assert(
      fc.property(linearProblem, fc.double({ min: 0.02, max: 0.98, noNaN: true }), ({ a, y0, ts, d }, where) => {
        const [rtol, atol] = [1e-6, 1e-9];
        const tEnd = ts[ts.length - 1];
        const coarse = odeint((_t, y) => matVec(a, y), y0, [0, tEnd], { method, rtol, atol });
        const h = tEnd / coarse.stats.accepted; // mean step
        // Derivative of the dense output by central differences at a random point; δ ≪ h keeps
        // both points on one step's interpolating polynomial almost always.
        const t = where * tEnd;
        const delta = 1e-4 * h;
        const sol = odeint((_t, y) => matVec(a, y), y0, [0, t - delta, t, t + delta], { method, rtol, atol });
        const derivative = Array.from(sol.ys[3], (x, i) => (x - sol.ys[1][i]) / (2 * delta));
        const residual = norm2(sub(derivative, matVec(a, sol.ys[2])));
        // The dense output is accurate to O(h^p) where the step is O(h^(p+1)): its derivative carries
        // about (local error)/h. 10x covers the spread of step sizes around the mean (the bound held
        // with factor 1 on 500 random problems per method); the last term is the differencing's
        // rounding, |y| ε / δ with margin.
        const yMax = Math.max(...y0.map(Math.abs)) * Math.sqrt(d);
        const bound = (10 * Math.sqrt(d) * (atol + rtol * yMax)) / h + (1e-12 * yMax) / delta;
        if (!(residual <= bound)) throw new Error(`t=${t}: residual ${residual} > bound ${bound} (h ${h})`);
      }),
      { numRuns: 150 },
    );
  });
});
