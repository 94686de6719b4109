/**
 * Butcher tableaux as validated data (the diffrax `ButcherTableau` pattern): a method is its
 * coefficients, checked once at construction, never rebuilt inside a step.
 */

/** Everything that defines an explicit Runge–Kutta method with optional embedded error estimate and dense output. */
export interface ButcherTableauSpec {
  /** Method name, e.g. 'dopri5'. */
  readonly name: string;
  /** Order of the propagated solution (`b`). */
  readonly order: number;
  /** Order of the embedded estimate used for step control (the error behaves like h^(errorOrder+1)); absent for fixed-step methods. */
  readonly errorOrder?: number;
  /** Stage nodes, `c[0] = 0`. */
  readonly c: readonly number[];
  /** Strictly lower-triangular coefficients: `a[i]` holds the i+1 weights of stage i+1 (stage 0 has none). */
  readonly a: readonly (readonly number[])[];
  /** Weights of the solution. */
  readonly b: readonly number[];
  /** Weights of the error estimate, `b - bHat` (sum to 0). */
  readonly bError?: readonly number[];
  /**
   * Dense output: `dense[j][p]` is the coefficient of θ^(p+1) in the weight b_j(θ) of stage j, so that
   * y(t0 + θh) = y0 + h Σ_j b_j(θ) k_j. Absent: a cubic Hermite interpolant is used instead.
   */
  readonly dense?: readonly (readonly number[])[];
}

const TOL = 1e-12;

/** A validated Butcher tableau. Construction throws if the coefficients are inconsistent. */
export class ButcherTableau implements ButcherTableauSpec {
  readonly name: string;
  readonly order: number;
  readonly errorOrder?: number;
  readonly c: readonly number[];
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  readonly bError?: readonly number[];
  readonly dense?: readonly (readonly number[])[];
  /** Number of stages. */
  readonly stages: number;
  /**
   * First-same-as-last: the last stage is evaluated at the new solution (c = 1, a-row = b), so its
   * value is f(t1, y1) and becomes the first stage of the next step (Dormand & Prince 1980).
   */
  readonly fsal: boolean;

  constructor(spec: ButcherTableauSpec) {
    this.name = spec.name;
    this.order = spec.order;
    this.errorOrder = spec.errorOrder;
    this.c = spec.c;
    this.a = spec.a;
    this.b = spec.b;
    this.bError = spec.bError;
    this.dense = spec.dense;
    this.stages = spec.c.length;
    for (const problem of validateTableau(spec)) throw new Error(`Invalid Butcher tableau '${spec.name}': ${problem}`);
    const s = this.stages;
    this.fsal =
      s > 1 &&
      spec.c[s - 1] === 1 &&
      spec.b[s - 1] === 0 &&
      spec.a[s - 2].length === s - 1 &&
      spec.a[s - 2].every((v, j) => v === spec.b[j]);
  }

  /** Dense-output weights b_j(θ) (without the factor h); requires `dense`. */
  denseWeights(theta: number): number[] {
    const dense = this.dense;
    if (!dense) throw new Error(`Tableau '${this.name}' has no dense output coefficients`);
    return dense.map((row) => {
      let acc = 0;
      let pow = theta;
      for (const coef of row) {
        acc += coef * pow;
        pow *= theta;
      }
      return acc;
    });
  }
}

const sum = (xs: readonly number[]): number => xs.reduce((acc, v) => acc + v, 0);

/**
 * Consistency checks of a tableau; returns the problems found (empty when valid): each row of `a`
 * sums to its `c`, `b` sums to 1, `bError` sums to 0, shapes agree, and the dense output reproduces
 * `b` at θ = 1 and has total weight θ at every θ.
 */
export function validateTableau(spec: ButcherTableauSpec): string[] {
  const problems: string[] = [];
  const s = spec.c.length;
  if (s < 1) problems.push('no stages');
  if (spec.c[0] !== 0) problems.push('c[0] must be 0 for an explicit method');
  if (spec.a.length !== s - 1) problems.push(`a must have ${s - 1} rows, has ${spec.a.length}`);
  spec.a.forEach((row, i) => {
    if (row.length !== i + 1) problems.push(`a row ${i + 1} must have ${i + 1} entries`);
    if (Math.abs(sum(row) - spec.c[i + 1]) > TOL)
      problems.push(`a row ${i + 1} sums to ${sum(row)}, c is ${spec.c[i + 1]}`);
  });
  if (spec.b.length !== s) problems.push(`b must have ${s} entries`);
  if (Math.abs(sum(spec.b) - 1) > TOL) problems.push(`b sums to ${sum(spec.b)}, not 1`);
  if (spec.bError) {
    if (spec.bError.length !== s) problems.push(`bError must have ${s} entries`);
    if (Math.abs(sum(spec.bError)) > TOL) problems.push(`bError sums to ${sum(spec.bError)}, not 0`);
    if (spec.errorOrder === undefined) problems.push('bError given without errorOrder');
  }
  if (spec.dense) {
    if (spec.dense.length !== s) problems.push(`dense must have ${s} rows`);
    for (const theta of [0.25, 0.5, 1]) {
      const w = spec.dense.map((row) => row.reduce((acc, coef, p) => acc + coef * theta ** (p + 1), 0));
      if (Math.abs(sum(w) - theta) > 1e-10) problems.push(`dense weights at θ=${theta} sum to ${sum(w)}`);
      if (theta === 1)
        w.forEach((wj, j) => {
          if (Math.abs(wj - spec.b[j]) > 1e-9) problems.push(`dense weight ${j} at θ=1 is ${wj}, b is ${spec.b[j]}`);
        });
    }
  }
  return problems;
}
