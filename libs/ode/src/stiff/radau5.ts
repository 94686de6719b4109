/**
 * Radau IIA of order 5 (three stages), Hairer's RADAU5 algorithm (E. Hairer & G. Wanner, *Solving
 * Ordinary Differential Equations II*, 2nd ed., 1996, IV.8) in the form of SciPy's `Radau`:
 *
 * - the collocation system is solved by simplified Newton iterations after the transformation
 *   T⁻¹AT = diag(γ, α ± iβ), so each iteration needs one real and one complex d×d solve;
 * - the Jacobian is kept while Newton converges fast and refreshed (once per step) when it does not;
 *   the LU factors are kept while h does not change (the controller holds h when it would change
 *   by less than 20%);
 * - the error estimate is Hairer's embedded 3rd-order estimate filtered by (γ/h·I − J)⁻¹, with one
 *   extra filtering after a rejection (IV.8, eqs. 8.19–8.20);
 * - the dense output is the collocation polynomial.
 */
import { OdeError } from '../errors';
import { luShifted, luShiftedComplex, luSolve, luSolveComplex, type BlockLU, type ComplexBlockLU } from './linalg';
import { NewtonSolver } from './newton';
import { jacobianNormBound, newtonTolerance, type StepAttempt, type StepFailure, type StiffStepper } from './stepper';
import type { StiffSystem } from './system';

const S6 = Math.sqrt(6);
/** Collocation nodes. */
export const RADAU_C = [(4 - S6) / 10, (4 + S6) / 10, 1] as const;
/** Weights of the embedded error estimate on Z. */
const E = [(-13 - 7 * S6) / 3, (-13 + 7 * S6) / 3, -1 / 3];
/** Real eigenvalue and complex pair of A⁻¹. */
const MU_REAL = 3 + 3 ** (2 / 3) - 3 ** (1 / 3);
const MU_CRE = 3 + 0.5 * (3 ** (1 / 3) - 3 ** (2 / 3));
const MU_CIM = -0.5 * (3 ** (5 / 6) + 3 ** (7 / 6));
/** Eigenvector transformation of A (A = T Λ T⁻¹). */
const T = [
  [0.09443876248897524, -0.14125529502095421, 0.03002919410514742],
  [0.2502131229653333, 0.20412935229379994, -0.3829421127572619],
  [1, 1, 0],
];
const TI = [
  [4.178718591551904, 0.32768282076106237, 0.5233764454994495],
  [-4.178718591551904, -0.32768282076106237, 0.47662355450055044],
  [0.5028726349457868, -2.571926949855605, 0.5960392048282249],
];
/** Dense output: Z_i = Σ_k P[i][k] x^(k+1) at the collocation nodes. */
const P = [
  [13 / 3 + (7 * S6) / 3, -23 / 3 - (22 * S6) / 3, 10 / 3 + 5 * S6],
  [13 / 3 - (7 * S6) / 3, -23 / 3 + (22 * S6) / 3, 10 / 3 - 5 * S6],
  [1 / 3, -8 / 3, 10 / 3],
];

interface RadauInfo {
  Z: Float64Array[];
  rate: number;
  iterations: number;
}

/** Radau IIA order 5 (RADAU5) stepper; the Newton solver is a part (default: SciPy's settings). */
export class Radau5 implements StiffStepper {
  readonly name = 'radau5';
  readonly order = 5;
  readonly errorOrder = 3;
  private sys!: StiffSystem;
  private J: Float64Array = new Float64Array(0);
  private currentJac = false;
  private luR: BlockLU | null = null;
  private luC: ComplexBlockLU | null = null;
  private luH = NaN;
  private dense: ((t: number) => Float64Array) | null = null;
  private tol = 0.03;

  /** @param newton the nonlinear solver (default: 6 iterations, no carried rate, as SciPy's Radau) */
  constructor(readonly newton: NewtonSolver = new NewtonSolver({ maxIterations: 6, carryRate: false })) {}

  start(sys: StiffSystem, t: number, y: Float64Array, f: Float64Array): void {
    this.sys = sys;
    this.tol = newtonTolerance(sys.rtol);
    this.J = sys.jacobian(t, y, f);
    this.currentJac = true;
    this.luR = this.luC = null;
    this.dense = null;
  }

  private factor(h: number): void {
    const { B, d } = this.sys;
    this.luR = luShifted(this.J, B, d, MU_REAL / h);
    this.luC = luShiftedComplex(this.J, B, d, MU_CRE / h, MU_CIM / h);
    this.sys.stats.nlu += 2;
    this.luH = h;
    if (this.luR.singularBlock >= 0 || this.luC.singularBlock >= 0)
      throw new OdeError(
        'step_size_underflow',
        `radau5: the Newton matrix is singular (sample ${Math.max(this.luR.singularBlock, this.luC.singularBlock)}, h=${h}). Check the Jacobian, or try another method.`,
      );
  }

  attempt(t: number, y: Float64Array, f: Float64Array, h: number, retry: boolean): StepAttempt | StepFailure {
    const sys = this.sys;
    const n = sys.n;
    const Z0 = [0, 1, 2].map((i) => {
      if (!this.dense) return new Float64Array(n);
      const z = this.dense(t + h * RADAU_C[i]);
      for (let k = 0; k < n; k++) z[k] -= y[k];
      return z;
    });
    const scale = sys.scale(y);
    let res: RadauInfo & { converged: boolean };
    for (;;) {
      if (!this.luR || this.luH !== h) this.factor(h);
      res = this.solveCollocation(t, y, h, Z0, scale);
      if (res.converged) break;
      sys.stats.newtonFailures++;
      if (this.currentJac) break;
      this.J = sys.jacobian(t, y, f);
      this.currentJac = true;
      this.luR = null;
    }
    if (!res.converged) {
      this.luR = null;
      return { ok: false, reason: 'Newton iterations did not converge with a fresh Jacobian' };
    }
    const { Z } = res;
    const y1 = new Float64Array(n);
    const ZE = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      y1[k] = y[k] + Z[2][k];
      ZE[k] = (E[0] * Z[0][k] + E[1] * Z[1][k] + E[2] * Z[2][k]) / h;
    }
    const luR = this.luR as BlockLU;
    const errVec = new Float64Array(n);
    for (let k = 0; k < n; k++) errVec[k] = f[k] + ZE[k];
    luSolve(luR, errVec);
    const errScale = sys.scale(y, y1);
    let err = sys.normScaled([errVec], errScale);
    if (retry && err > 1) {
      const yp = new Float64Array(n);
      for (let k = 0; k < n; k++) yp[k] = y[k] + errVec[k];
      const fp = sys.f(t, yp);
      for (let k = 0; k < n; k++) errVec[k] = fp[k] + ZE[k];
      luSolve(luR, errVec);
      err = sys.normScaled([errVec], errScale);
    }
    const recomputeJac = res.iterations > 2 && res.rate > 1e-3;
    // Collocation polynomial: y(t0 + x·h) = y0 + Σ_k Q_k x^(k+1), Q = Zᵀ P.
    const Q = [0, 1, 2].map((kk) => {
      const q = new Float64Array(n);
      for (let k = 0; k < n; k++) q[k] = Z[0][k] * P[0][kk] + Z[1][k] * P[1][kk] + Z[2][k] * P[2][kk];
      return q;
    });
    const dense = (tq: number) => {
      const x = (tq - t) / h;
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = y[k] + x * (Q[0][k] + x * (Q[1][k] + x * Q[2][k]));
      return out;
    };
    return {
      ok: true,
      y1,
      f1: null,
      err,
      info: {
        newtonIterations: res.iterations,
        maxNewtonIterations: this.newton.maxIterations,
        luReusable: !recomputeJac,
      },
      dense,
    };
  }

  accepted(t1: number, y1: Float64Array, f1: Float64Array, attempt: StepAttempt): void {
    this.dense = attempt.dense;
    if (!attempt.info.luReusable) {
      this.J = this.sys.jacobian(t1, y1, f1);
      this.currentJac = true;
      this.luR = null;
    } else this.currentJac = false;
  }

  stiffness(h: number): number {
    return Math.abs(h) * jacobianNormBound(this.J, this.sys.B, this.sys.d);
  }

  /** Simplified Newton on the transformed collocation system (SciPy's `solve_collocation_system`). */
  private solveCollocation(
    t: number,
    y: Float64Array,
    h: number,
    Z0: Float64Array[],
    scale: Float64Array,
  ): RadauInfo & { converged: boolean } {
    const sys = this.sys;
    const n = sys.n;
    const luR = this.luR as BlockLU;
    const luC = this.luC as ComplexBlockLU;
    const mr = MU_REAL / h;
    const mcr = MU_CRE / h;
    const mci = MU_CIM / h;
    const W = [0, 1, 2].map((i) => {
      const w = new Float64Array(n);
      for (let k = 0; k < n; k++) w[k] = TI[i][0] * Z0[0][k] + TI[i][1] * Z0[1][k] + TI[i][2] * Z0[2][k];
      return w;
    });
    const Z = Z0.map((z) => z.slice());
    const dW = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const yi = new Float64Array(n);
    const increment = (): number => {
      const F = [0, 1, 2].map((i) => {
        for (let k = 0; k < n; k++) yi[k] = y[k] + Z[i][k];
        return sys.f(t + h * RADAU_C[i], yi);
      });
      for (let k = 0; k < n; k++) {
        const f0 = F[0][k];
        const f1 = F[1][k];
        const f2 = F[2][k];
        dW[0][k] = TI[0][0] * f0 + TI[0][1] * f1 + TI[0][2] * f2 - mr * W[0][k];
        dW[1][k] = TI[1][0] * f0 + TI[1][1] * f1 + TI[1][2] * f2 - (mcr * W[1][k] - mci * W[2][k]);
        dW[2][k] = TI[2][0] * f0 + TI[2][1] * f1 + TI[2][2] * f2 - (mcr * W[2][k] + mci * W[1][k]);
      }
      luSolve(luR, dW[0]);
      luSolveComplex(luC, dW[1], dW[2]);
      return sys.iterationNorm(dW, scale);
    };
    const apply = () => {
      for (let k = 0; k < n; k++) {
        W[0][k] += dW[0][k];
        W[1][k] += dW[1][k];
        W[2][k] += dW[2][k];
      }
      for (let i = 0; i < 3; i++)
        for (let k = 0; k < n; k++) Z[i][k] = T[i][0] * W[0][k] + T[i][1] * W[1][k] + T[i][2] * W[2][k];
    };
    const r = this.newton.solve(increment, apply, this.tol);
    sys.stats.newtonIterations += r.iterations;
    return { converged: r.converged, iterations: r.iterations, rate: r.rate, Z };
  }
}
