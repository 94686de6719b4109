/**
 * ESDIRK methods (explicit first stage, singly diagonally implicit Runge–Kutta) of A. Kværnø,
 * "Singly diagonally implicit Runge–Kutta methods with an explicit first stage", BIT 44(3), 2004 —
 * diffrax's `Kvaerno3` and `Kvaerno5` (coefficients and stage predictors as in diffrax). Both are
 * stiffly accurate and L-stable: the last stage is the solution, so f(t1, y1) comes for free.
 */
import { OdeError } from '../errors';
import { luShifted, luSolve, type BlockLU } from './linalg';
import { NewtonSolver } from './newton';
import {
  hermite,
  jacobianNormBound,
  newtonTolerance,
  type StepAttempt,
  type StepFailure,
  type StiffStepper,
} from './stepper';
import type { StiffSystem } from './system';

/** Coefficients of an ESDIRK method with an embedded error estimate. */
export interface EsdirkTableauSpec {
  readonly name: string;
  readonly order: number;
  /** Order of the embedded estimate. */
  readonly errorOrder: number;
  /** The diagonal coefficient γ (a_ii = γ for i ≥ 1, a_00 = 0). */
  readonly gamma: number;
  readonly c: readonly number[];
  /** `a[i]` holds a_{i+1, 0..i} (below the diagonal) of stage i+1. */
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  /** b − b̂ (sums to 0). */
  readonly bError: readonly number[];
  /** Stage predictors: the first guess of stage i+1 is y0 + h Σ_j predictor[i][j] k_j (diffrax's `a_predictor`). */
  readonly predictor?: readonly (readonly number[])[];
  /**
   * Continuous extension: y(t0 + θh) = y0 + h Σ_i b_i(θ) k_i with b_i(θ) = Σ_m dense[i][m] θ^(m+1),
   * b_i(1) = b_i. Undefined: cubic Hermite interpolation through y0, f0, y1, f1.
   */
  readonly dense?: readonly (readonly number[])[];
}

const TOL = 1e-12;
const sum = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0);

/**
 * Consistency of an ESDIRK tableau: every row (with γ on the diagonal) sums to its c, b sums to 1,
 * bError sums to 0, the method is stiffly accurate (last row = b, c_s = 1), and it has order ≥ 2
 * (Σ b_i c_i = 1/2). Returns the problems found.
 */
export function validateEsdirk(spec: EsdirkTableauSpec): string[] {
  const problems: string[] = [];
  const s = spec.c.length;
  if (spec.c[0] !== 0) problems.push('c[0] must be 0 (explicit first stage)');
  if (spec.a.length !== s - 1) problems.push(`a must have ${s - 1} rows`);
  spec.a.forEach((row, i) => {
    if (row.length !== i + 1) problems.push(`a row ${i + 1} must have ${i + 1} entries`);
    const rs = sum(row) + spec.gamma;
    if (Math.abs(rs - spec.c[i + 1]) > TOL)
      problems.push(`a row ${i + 1} (with γ) sums to ${rs}, c is ${spec.c[i + 1]}`);
  });
  if (spec.b.length !== s) problems.push(`b must have ${s} entries`);
  if (Math.abs(sum(spec.b) - 1) > TOL) problems.push(`b sums to ${sum(spec.b)}, not 1`);
  if (spec.bError.length !== s) problems.push(`bError must have ${s} entries`);
  if (Math.abs(sum(spec.bError)) > TOL) problems.push(`bError sums to ${sum(spec.bError)}, not 0`);
  const last = spec.a[s - 2] ?? [];
  if (spec.c[s - 1] !== 1 || spec.b[s - 1] !== spec.gamma || last.some((v, j) => Math.abs(v - spec.b[j]) > TOL))
    problems.push('not stiffly accurate: the last row must equal b (with b_s = γ, c_s = 1)');
  const bc = sum(spec.b.map((bi, i) => bi * spec.c[i]));
  if (Math.abs(bc - 0.5) > 1e-10) problems.push(`Σ b_i c_i = ${bc}, not 1/2 (order < 2)`);
  spec.predictor?.forEach((row, i) => {
    if (row.length !== i + 1) problems.push(`predictor row ${i + 1} must have ${i + 1} entries`);
  });
  if (spec.dense) {
    const w = spec.dense;
    if (w.length !== s) problems.push(`dense must have ${s} rows`);
    else {
      // Σ_i b_i(θ) = θ (consistency) and b_i(1) = b_i (the extension ends at y1).
      const degree = Math.max(...w.map((row) => row.length));
      for (let m = 0; m < degree; m++) {
        const col = sum(w.map((row) => row[m] ?? 0));
        if (Math.abs(col - (m === 0 ? 1 : 0)) > TOL)
          problems.push(`dense: the θ^${m + 1} coefficients sum to ${col}, not ${m === 0 ? 1 : 0}`);
      }
      w.forEach((row, i) => {
        if (Math.abs(sum(row) - spec.b[i]) > TOL)
          problems.push(`dense: b_${i}(1) = ${sum(row)}, not b_${i} = ${spec.b[i]}`);
      });
    }
  }
  return problems;
}

/** A validated ESDIRK tableau (construction throws on inconsistent coefficients). */
export class EsdirkTableau implements EsdirkTableauSpec {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  readonly gamma: number;
  readonly c: readonly number[];
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  readonly bError: readonly number[];
  readonly predictor?: readonly (readonly number[])[];
  readonly dense?: readonly (readonly number[])[];
  readonly stages: number;

  constructor(spec: EsdirkTableauSpec) {
    for (const problem of validateEsdirk(spec)) throw new Error(`Invalid ESDIRK tableau '${spec.name}': ${problem}`);
    this.name = spec.name;
    this.order = spec.order;
    this.errorOrder = spec.errorOrder;
    this.gamma = spec.gamma;
    this.c = spec.c;
    this.a = spec.a;
    this.b = spec.b;
    this.bError = spec.bError;
    this.predictor = spec.predictor;
    this.dense = spec.dense;
    this.stages = spec.c.length;
  }
}

const g3 = 0.4358665215; // as diffrax (Kværnø gives γ to 10 digits)
const k3a31 = (-4 * g3 ** 2 + 6 * g3 - 1) / (4 * g3);
const k3a32 = (-2 * g3 + 1) / (4 * g3);
const k3a41 = (6 * g3 - 1) / (12 * g3);
const k3a42 = -1 / ((24 * g3 - 12) * g3);
const k3a43 = (-6 * g3 ** 2 + 6 * g3 - 1) / (6 * g3 - 3);
const k3theta = 1 / (2 * g3);

/** Kværnø's 4-stage ESDIRK 3(2), L-stable, stiffly accurate (diffrax `Kvaerno3`). */
export const KVAERNO3 = new EsdirkTableau({
  name: 'kvaerno3',
  order: 3,
  errorOrder: 2,
  gamma: g3,
  c: [0, 2 * g3, 1, 1],
  a: [[g3], [k3a31, k3a32], [k3a41, k3a42, k3a43]],
  b: [k3a41, k3a42, k3a43, g3],
  bError: [k3a41 - k3a31, k3a42 - k3a32, k3a43 - g3, g3],
  predictor: [[1], [1 - k3theta, k3theta], [k3a31, k3a32, g3]],
});

const g5 = 0.26;
const a5 = [
  [g5],
  [0.13, 0.8403332099679081],
  [0.22371961478320504, 0.476755323197997, -0.06470895363112615],
  [0.1664856432324832, 0.1045001884159172, 0.03631482272098715, -0.13090704451073998],
  [0.13855640231268224, 0, -0.04245337201752043, 0.02446657898003141, 0.6194303907248068],
  [0.1365975117764029, 0, -0.05496908796538376, -0.04118626728321046, 0.629933048990164, 0.06962479448202728],
];
const b5 = [...a5[5], g5];
const bHat5 = [...a5[4], g5, 0];

/**
 * Kværnø's 7-stage ESDIRK 5(4), L-stable, stiffly accurate (diffrax `Kvaerno5`, its default stiff method).
 *
 * Continuous extension (derived here; Kværnø publishes none and diffrax interpolates with cubic Hermite):
 * the weights b_i(θ), quartic in θ, are the unique solution of, for every θ,
 * - the order conditions of all 8 trees of order ≤ 4 (Σ b_i(θ) Φ_i(t) = θ^ρ(t)/γ(t)): local error O(h⁵);
 * - boundedness in the stiff limit: b_1(θ) = b̃(θ)ᵀ Ã⁻¹ a (Ã the implicit 6×6 block, a its first column),
 *   so that the explicit stage k_1 = f(y0) does not enter as z·y0 when hλ → −∞ (Hermite's does);
 * - the stiff-limit response R(θ, ∞) = (1 − θ)³, i.e. b̃(θ)ᵀ Ã⁻¹ (𝟙 + Ã⁻¹ a) = 1 − (1 − θ)³.
 * These conditions force b_2(θ) = 0 (stage 2, the one without stage order 3) and give b_i(1) = b_i.
 * Computed in 40-digit arithmetic from the tableau below; the spec checks the conditions.
 */
export const KVAERNO5 = new EsdirkTableau({
  name: 'kvaerno5',
  order: 5,
  errorOrder: 4,
  gamma: g5,
  // c_i = Σ_j a_ij + γ, written from the rows (diffrax lists 0.52, 1.230333209967908, 0.8957659843500759, 0.43639360985864756, 1, 1).
  c: [0, ...a5.map((row) => sum(row) + g5)].map((v, i) => (i >= 5 ? 1 : v)),
  a: a5,
  b: b5,
  bError: b5.map((v, j) => v - bHat5[j]),
  predictor: [
    [1],
    [-1.366025403784441, 2.3660254037844357],
    [-0.19650552613122207, 0.8113579546496623, 0.38514757148155954],
    [0.10375304369958693, 0.937994698066431, -0.04174774176601781, 0],
    [-0.17281112873898072, 0.6235784481025847, 0.5492326806363959, 0, 0],
    [...a5[4], g5],
  ],
  dense: [
    [0.9505579636078251, -1.9515434454153258, 1.6148283678110615, -0.47724537422715796],
    [0, 0, 0, 0],
    [-0.31589436566666007, 1.6125838104419428, -2.3885829354601205, 1.0369244027194537],
    [-1.657065749249298, 3.37181425024608, -1.3665672236733866, -0.38936754460660583],
    [0.26508516047898434, 2.6108953646158195, -3.588595850951686, 1.3425483748470464],
    [-3.468669370546318, 11.469665356510001, -10.600213904995874, 2.668842713514217],
    [5.225986361375466, -17.113415336398518, 16.329131547270006, -4.181702572246953],
  ],
});

/**
 * ESDIRK stepper: one LU of (I − hγJ) per step size, shared by every stage; each implicit stage is
 * solved by the Newton part (simplified Newton, at least two iterations, Hairer & Wanner's rate test).
 *
 * - Stage predictors: the first guess of stage i is the previous step's continuous extension
 *   extrapolated to t0 + c_i·h (as RADAU5 starts from its last collocation polynomial), while |h| is at
 *   most `extrapolationRatio` times the previous step; the tableau's own predictor (diffrax's
 *   `a_predictor`) otherwise, and always for the last stage, whose predictor is the previous stage value
 *   at the same c = 1. The extrapolated guesses cut kvaerno5's Newton iterations by 18–29% on the
 *   benchmark problems (docs/benchmarks.md, issue 5).
 * - Jacobian: kept across steps while every stage converges in ≤ 2 iterations or with a rate ≤ 1e-3,
 *   refreshed after a slower step and, once, when Newton fails with an old Jacobian.
 * - Error estimate: the embedded difference h Σ e_j k_j = Y_s − Ŷ, unfiltered (as diffrax). For these
 *   stiffly accurate methods both are stage values, bounded in the stiff limit, so no (I − hγJ)⁻¹ filter
 *   is needed; the filter underestimated the error of stiff components (Prothero–Robinson with
 *   λ = −1e4 ended 21 tolerances off with it).
 * - Dense output: the tableau's continuous extension when it has one (kvaerno5: order 4), else cubic
 *   Hermite.
 */
export class EsdirkStepper implements StiffStepper {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  private sys!: StiffSystem;
  private J: Float64Array = new Float64Array(0);
  private currentJac = false;
  private lu: BlockLU | null = null;
  private luH = NaN;
  private tol = 0.03;
  /** The last accepted step (its size and continuous extension), for the stage predictors. */
  private prev: { h: number; dense: (t: number) => Float64Array } | null = null;

  /**
   * @param tableau the method
   * @param newton the nonlinear solver (default: up to 10 iterations, at least 2 — a 1-iteration stop with a
   *   carried rate leaves Newton errors that made Van der Pol end hundreds of tolerances off)
   * @param extrapolationRatio largest |h / h_prev| for which stage guesses are extrapolated (default 3)
   */
  constructor(
    readonly tableau: EsdirkTableau,
    readonly newton: NewtonSolver = new NewtonSolver({ maxIterations: 10, carryRate: false }),
    readonly extrapolationRatio = 3,
  ) {
    this.name = tableau.name;
    this.order = tableau.order;
    this.errorOrder = tableau.errorOrder;
  }

  start(sys: StiffSystem, t: number, y: Float64Array): void {
    this.sys = sys;
    this.tol = newtonTolerance(sys.rtol);
    this.J = sys.jacobian(t, y);
    this.currentJac = true;
    this.lu = null;
    this.prev = null;
  }

  private factor(h: number): BlockLU {
    const { B, d } = this.sys;
    const lu = luShifted(this.J, B, d, 1 / (h * this.tableau.gamma));
    this.sys.stats.nlu++;
    if (lu.singularBlock >= 0)
      throw new OdeError(
        'step_size_underflow',
        `${this.name}: the Newton matrix I − hγJ is singular (sample ${lu.singularBlock}, h=${h}). Check the Jacobian, or try another method.`,
      );
    this.lu = lu;
    this.luH = h;
    return lu;
  }

  attempt(t: number, y: Float64Array, f: Float64Array, h: number): StepAttempt | StepFailure {
    for (;;) {
      const r = this.tryStages(t, y, f, h);
      if (r.ok) return r;
      this.sys.stats.newtonFailures++;
      if (this.currentJac) {
        this.lu = null;
        return r;
      }
      this.J = this.sys.jacobian(t, y);
      this.currentJac = true;
      this.lu = null;
    }
  }

  private tryStages(t: number, y: Float64Array, f: Float64Array, h: number): StepAttempt | StepFailure {
    const sys = this.sys;
    const n = sys.n;
    const tab = this.tableau;
    const hg = h * tab.gamma;
    const lu = this.lu && this.luH === h ? this.lu : this.factor(h);
    const scale = sys.scale(y);
    const k: Float64Array[] = [f];
    const psi = new Float64Array(n);
    const Z = new Float64Array(n);
    const dZ = new Float64Array(n);
    const yi = new Float64Array(n);
    const extrapolate = this.prev && Math.abs(h / this.prev.h) <= this.extrapolationRatio ? this.prev.dense : null;
    let maxIters = 0;
    let slow = false;
    for (let i = 1; i < tab.stages; i++) {
      const row = tab.a[i - 1];
      const ti = t + tab.c[i] * h;
      const pred = extrapolate && i < tab.stages - 1 ? null : tab.predictor?.[i - 1];
      psi.fill(0);
      Z.fill(0);
      for (let j = 0; j < i; j++) {
        const aj = h * row[j];
        const pj = pred ? h * pred[j] : 0;
        const kj = k[j];
        for (let q = 0; q < n; q++) {
          psi[q] += aj * kj[q];
          Z[q] += pj * kj[q];
        }
      }
      if (!pred) {
        if (extrapolate && i < tab.stages - 1) {
          const guess = extrapolate(ti);
          for (let q = 0; q < n; q++) Z[q] = guess[q] - y[q];
        } else for (let q = 0; q < n; q++) Z[q] = psi[q] + hg * k[i - 1][q];
      }
      const increment = () => {
        for (let q = 0; q < n; q++) yi[q] = y[q] + Z[q];
        const F = sys.f(ti, yi);
        for (let q = 0; q < n; q++) dZ[q] = (psi[q] + hg * F[q] - Z[q]) / hg;
        luSolve(lu, dZ);
        return sys.iterationNorm([dZ], scale);
      };
      const apply = () => {
        for (let q = 0; q < n; q++) Z[q] += dZ[q];
      };
      const res = this.newton.solve(increment, apply, this.tol);
      sys.stats.newtonIterations += res.iterations;
      if (!res.converged) return { ok: false, reason: `Newton iterations did not converge (${res.failure})` };
      maxIters = Math.max(maxIters, res.iterations);
      if (res.iterations > 2 && res.rate > 1e-3) slow = true;
      const ki = new Float64Array(n);
      for (let q = 0; q < n; q++) ki[q] = (Z[q] - psi[q]) / hg;
      k.push(ki);
    }
    // Stiffly accurate: y1 is the last stage value, f(t1, y1) its derivative.
    const y1 = new Float64Array(n);
    for (let q = 0; q < n; q++) y1[q] = y[q] + Z[q];
    const errVec = new Float64Array(n);
    for (let j = 0; j < tab.stages; j++) {
      const e = h * tab.bError[j];
      if (e === 0) continue;
      const kj = k[j];
      for (let q = 0; q < n; q++) errVec[q] += e * kj[q];
    }
    const err = sys.norm(errVec, y, y1);
    const f1 = k[tab.stages - 1];
    return {
      ok: true,
      y1,
      f1,
      err,
      info: { newtonIterations: maxIters, maxNewtonIterations: this.newton.maxIterations, luReusable: !slow },
      dense: tab.dense ? continuousExtension(t, h, y, k, tab.dense) : hermite(t, h, y, f, y1, () => f1),
    };
  }

  accepted(t1: number, y1: Float64Array, f1: Float64Array, attempt: StepAttempt, h: number): void {
    this.prev = { h, dense: attempt.dense };
    if (!attempt.info.luReusable) {
      this.J = this.sys.jacobian(t1, y1);
      this.currentJac = true;
      this.lu = null;
    } else this.currentJac = false;
  }

  stiffness(h: number): number {
    return Math.abs(h) * jacobianNormBound(this.J, this.sys.B, this.sys.d);
  }
}

/**
 * The continuous extension y(t0 + θh) = y0 + h Σ_i b_i(θ) k_i of a step, b_i(θ) = Σ_m w[i][m] θ^(m+1).
 * Keeps references to y0 and the stage derivatives k (neither is modified after the step).
 */
export function continuousExtension(
  t0: number,
  h: number,
  y0: Float64Array,
  k: readonly Float64Array[],
  w: readonly (readonly number[])[],
): (t: number) => Float64Array {
  return (t) => {
    const th = (t - t0) / h;
    const out = y0.slice();
    for (let i = 0; i < k.length; i++) {
      const wi = w[i];
      let bi = 0;
      for (let m = wi.length - 1; m >= 0; m--) bi = (bi + wi[m]) * th;
      if (bi === 0) continue;
      const c = h * bi;
      const ki = k[i];
      for (let q = 0; q < out.length; q++) out[q] += c * ki[q];
    }
    return out;
  };
}
