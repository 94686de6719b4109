/**
 * Rosenbrock (linearly implicit) methods in Hairer & Wanner's transformed form (*Solving ODEs II*,
 * IV.7, eq. 7.25): with J = ∂f/∂y and f_t = ∂f/∂t at (t0, y0),
 *
 *   (1/(hγ)·I − J) U_i = f(t0 + c_i h, y0 + Σ_{j<i} a_ij U_j) + Σ_{j<i} (C_ij / h) U_j + h d_i f_t,
 *   y1 = y0 + Σ m_i U_i,   error = Σ e_i U_i.
 *
 * One Jacobian and one LU per step, no Newton iteration. RODAS4 is Hairer's `rodas.f` (Hairer &
 * Wanner II, IV.7, Table 7.2; coefficients as in rodas.f / OrdinaryDiffEq's `Rodas4Tableau`): six
 * stages, order 4 with an embedded order 3, stiffly accurate, L-stable, with a 3rd-order dense output.
 */
import { OdeError } from '../errors';
import { luShifted, luSolve } from './linalg';
import { jacobianNormBound, type StepAttempt, type StiffStepper } from './stepper';
import type { StiffSystem } from './system';

/** Coefficients of a Rosenbrock method in transformed form. */
export interface RosenbrockTableauSpec {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  readonly gamma: number;
  readonly c: readonly number[];
  /** d_i = γ_i, the coefficients of h·f_t. */
  readonly d: readonly number[];
  /** `a[i]` holds a_{i,0..i-1} (stage 0 has none). */
  readonly a: readonly (readonly number[])[];
  /** `C[i]` holds C_{i,0..i-1}. */
  readonly C: readonly (readonly number[])[];
  readonly m: readonly number[];
  readonly e: readonly number[];
  /** Dense output y(θ) = (1−θ) y0 + θ (y1 + (1−θ)(Σ H1_j U_j + θ Σ H2_j U_j)). */
  readonly H1?: readonly number[];
  readonly H2?: readonly number[];
}

/**
 * Runs the method on two scalar model problems and returns (R(z), y1 of y' = t^p):
 * y' = λy with J = λ exactly (stability function R(z), z = hλ, h = 1) and y' = g(t) (J = 0).
 */
function scalarStep(
  spec: RosenbrockTableauSpec,
  z: number,
  g: ((t: number) => number) | null,
  gt: number,
  useEmbedded: boolean,
): number {
  const s = spec.c.length;
  const U: number[] = [];
  for (let i = 0; i < s; i++) {
    let Y = 1;
    for (let j = 0; j < i; j++) Y += spec.a[i][j] * U[j];
    let rhs = g ? g(spec.c[i]) + spec.d[i] * gt : z * Y;
    for (let j = 0; j < i; j++) rhs += spec.C[i][j] * U[j];
    U.push(rhs / (1 / spec.gamma - (g ? 0 : z)));
  }
  let y1 = 1;
  for (let i = 0; i < s; i++) y1 += (spec.m[i] - (useEmbedded ? spec.e[i] : 0)) * U[i];
  return y1;
}

/**
 * Checks a Rosenbrock tableau as data: shapes; quadrature order (y' = t^p integrated exactly for
 * p < order, with the embedded method for p < errorOrder); the stability function R(z) agrees with e^z to
 * order `order` (the error ratio between z and z/2 is about 2^(order+1)); L-stability R(−∞) = 0.
 */
export function validateRosenbrock(spec: RosenbrockTableauSpec): string[] {
  const problems: string[] = [];
  const s = spec.c.length;
  for (const [key, rows] of [
    ['a', spec.a],
    ['C', spec.C],
  ] as const) {
    if (rows.length !== s) problems.push(`${key} must have ${s} rows`);
    rows.forEach((row, i) => {
      if (row.length !== i) problems.push(`${key} row ${i} must have ${i} entries`);
    });
  }
  for (const [key, v] of [
    ['d', spec.d],
    ['m', spec.m],
    ['e', spec.e],
  ] as const)
    if (v.length !== s) problems.push(`${key} must have ${s} entries`);
  if (problems.length) return problems;
  for (let p = 0; p < spec.order; p++) {
    const y1 = scalarStep(spec, 0, (t) => t ** p, p === 0 ? 0 : p === 1 ? 1 : 0, false);
    if (Math.abs(y1 - 1 - 1 / (p + 1)) > 1e-10) problems.push(`∫ t^${p} is not exact (order < ${p + 1})`);
    if (p < spec.errorOrder) {
      const ye = scalarStep(spec, 0, (t) => t ** p, p === 0 ? 0 : p === 1 ? 1 : 0, true);
      if (Math.abs(ye - 1 - 1 / (p + 1)) > 1e-10) problems.push(`embedded method: ∫ t^${p} is not exact`);
    }
  }
  const err = (z: number) => Math.abs(scalarStep(spec, z, null, 0, false) - Math.exp(z));
  const ratio = err(-0.02) / err(-0.01);
  const expect = 2 ** (spec.order + 1);
  if (!(ratio > expect * 0.8 && ratio < expect * 1.25))
    problems.push(`stability function error ratio ${ratio}, expected about ${expect} (order ${spec.order})`);
  if (Math.abs(scalarStep(spec, -1e12, null, 0, false)) > 1e-9) problems.push('not L-stable: R(−∞) ≠ 0');
  return problems;
}

/** A validated Rosenbrock tableau. */
export class RosenbrockTableau implements RosenbrockTableauSpec {
  readonly name!: string;
  readonly order!: number;
  readonly errorOrder!: number;
  readonly gamma!: number;
  readonly c!: readonly number[];
  readonly d!: readonly number[];
  readonly a!: readonly (readonly number[])[];
  readonly C!: readonly (readonly number[])[];
  readonly m!: readonly number[];
  readonly e!: readonly number[];
  readonly H1?: readonly number[];
  readonly H2?: readonly number[];
  readonly stages: number;

  constructor(spec: RosenbrockTableauSpec) {
    for (const problem of validateRosenbrock(spec))
      throw new Error(`Invalid Rosenbrock tableau '${spec.name}': ${problem}`);
    Object.assign(this, spec);
    this.stages = spec.c.length;
  }
}

const r4a5 = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895];

/** Hairer's RODAS4: 6 stages, order 4(3), stiffly accurate, L-stable. */
export const RODAS4 = new RosenbrockTableau({
  name: 'rodas4',
  order: 4,
  errorOrder: 3,
  gamma: 0.25,
  c: [0, 0.386, 0.21, 0.63, 1, 1],
  d: [0.25, -0.1043, 0.1035, -0.03620000000000023, 0, 0],
  a: [
    [],
    [1.544],
    [0.9466785280815826, 0.2557011698983284],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817],
    r4a5,
    [...r4a5, 1],
  ],
  C: [
    [],
    [-5.6688],
    [-2.430093356833875, -0.2063599157091915],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
  ],
  m: [...r4a5, 1, 1],
  e: [0, 0, 0, 0, 0, 1],
  H1: [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0],
  H2: [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0],
});

/**
 * Rosenbrock stepper: a fresh Jacobian (and ∂f/∂t by a forward difference unless the problem is
 * declared autonomous) at the start of every step after an accepted one; one LU per attempted step size.
 */
export class RosenbrockStepper implements StiffStepper {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  private sys!: StiffSystem;
  private J: Float64Array = new Float64Array(0);
  private ft: Float64Array | null = null;
  private jacT = NaN;
  private jacY: Float64Array | null = null;

  /** @param autonomous skip ∂f/∂t (f does not depend on t) */
  constructor(
    readonly tableau: RosenbrockTableau,
    readonly autonomous = false,
  ) {
    this.name = tableau.name;
    this.order = tableau.order;
    this.errorOrder = tableau.errorOrder;
  }

  start(sys: StiffSystem): void {
    this.sys = sys;
    this.jacY = null;
  }

  private refresh(t: number, y: Float64Array, f: Float64Array): void {
    const sys = this.sys;
    this.J = sys.jacobian(t, y, f);
    this.jacT = t;
    this.jacY = y;
    this.ft = null;
    if (!this.autonomous) {
      const dt = Math.sqrt(Number.EPSILON) * Math.max(1e-5, Math.abs(t));
      sys.stats.nfeJacobian++;
      const fp = sys.f(t + dt, y);
      this.ft = new Float64Array(sys.n);
      for (let i = 0; i < sys.n; i++) this.ft[i] = (fp[i] - f[i]) / dt;
    }
  }

  attempt(t: number, y: Float64Array, f: Float64Array, h: number): StepAttempt {
    const sys = this.sys;
    const n = sys.n;
    const tab = this.tableau;
    if (this.jacY !== y || this.jacT !== t) this.refresh(t, y, f);
    const lu = luShifted(this.J, sys.B, sys.d, 1 / (h * tab.gamma));
    sys.stats.nlu++;
    if (lu.singularBlock >= 0)
      throw new OdeError(
        'step_size_underflow',
        `${this.name}: the matrix I/(hγ) − J is singular (sample ${lu.singularBlock}, h=${h}). Check the Jacobian.`,
      );
    const U: Float64Array[] = [];
    const Yi = new Float64Array(n);
    for (let i = 0; i < tab.stages; i++) {
      let rhs: Float64Array;
      if (i === 0) rhs = f.slice();
      else {
        Yi.set(y);
        const ai = tab.a[i];
        for (let j = 0; j < i; j++) {
          const c = ai[j];
          if (c === 0) continue;
          for (let q = 0; q < n; q++) Yi[q] += c * U[j][q];
        }
        rhs = sys.f(t + tab.c[i] * h, Yi).slice();
      }
      const Ci = tab.C[i];
      for (let j = 0; j < i; j++) {
        const c = Ci[j] / h;
        for (let q = 0; q < n; q++) rhs[q] += c * U[j][q];
      }
      if (this.ft && tab.d[i] !== 0) for (let q = 0; q < n; q++) rhs[q] += h * tab.d[i] * this.ft[q];
      U.push(luSolve(lu, rhs));
    }
    const y1 = y.slice();
    const errVec = new Float64Array(n);
    for (let i = 0; i < tab.stages; i++) {
      const m = tab.m[i];
      const e = tab.e[i];
      for (let q = 0; q < n; q++) {
        y1[q] += m * U[i][q];
        errVec[q] += e * U[i][q];
      }
    }
    const err = sys.norm(errVec, y, y1);
    let dense: (tq: number) => Float64Array;
    if (tab.H1 && tab.H2) {
      const k1 = new Float64Array(n);
      const k2 = new Float64Array(n);
      for (let i = 0; i < tab.stages; i++)
        for (let q = 0; q < n; q++) {
          k1[q] += tab.H1[i] * U[i][q];
          k2[q] += tab.H2[i] * U[i][q];
        }
      dense = (tq) => {
        const th = (tq - t) / h;
        const out = new Float64Array(n);
        for (let q = 0; q < n; q++) out[q] = (1 - th) * y[q] + th * (y1[q] + (1 - th) * (k1[q] + th * k2[q]));
        return out;
      };
    } else dense = (tq) => y.map((v, q) => v + ((tq - t) / h) * (y1[q] - v));
    return {
      ok: true,
      y1,
      f1: null,
      err,
      info: { newtonIterations: 0, maxNewtonIterations: 0, luReusable: false },
      dense,
    };
  }

  accepted(): void {}

  stiffness(h: number): number {
    return Math.abs(h) * jacobianNormBound(this.J, this.sys.B, this.sys.d);
  }
}
