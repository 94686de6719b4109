import { odeint, OdeError } from '@continuum/ode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EsdirkTableau, KVAERNO3, KVAERNO5, validateEsdirk } from './esdirk';
import { luFactor, luShiftedComplex, luSolve, luSolveComplex } from './linalg';
import { NewtonSolver } from './newton';
import { HIRES, HIRES_REFERENCE, ROBERTSON, stiffLinear, VAN_DER_POL, type StiffProblem } from './problems';
import { RODAS4, validateRosenbrock } from './rosenbrock';
import type { StiffStats } from './system';
import { logLogSlope } from '../testing/problems';

interface ScipyEntry {
  reference: { y_end: number[] };
  methods: Record<string, { nfev: number; steps: number; njev: number; nlu: number; end_error: number }>;
}
const scipy = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../../bench/reference/scipy_stiff.json'), 'utf8'),
) as { problems: Record<string, ScipyEntry> };

const IMPLICIT = ['radau5', 'rodas4', 'kvaerno5', 'kvaerno3'] as const;
type Implicit = (typeof IMPLICIT)[number];

function solve(p: StiffProblem, method: string, extra: object = {}) {
  const r = odeint(p.f, p.y0, [p.t0, p.t1], {
    method: method as Implicit,
    rtol: p.rtol,
    atol: p.atol as number[],
    maxSteps: 100_000,
    ...extra,
  });
  return { y: r.ys[1], stats: r.stats as StiffStats };
}

/** Largest error in units of the requested tolerance: max_i |y_i − ref_i| / (atol_i + rtol·|ref_i|). */
function toleranceUnits(p: StiffProblem, y: ArrayLike<number>, ref: readonly number[]): number {
  return Math.max(
    ...ref.map(
      (r, i) => Math.abs(y[i] - r) / ((typeof p.atol === 'number' ? p.atol : p.atol[i]) + p.rtol * Math.abs(r)),
    ),
  );
}

describe('tableaux and parts', () => {
  it.each([KVAERNO3, KVAERNO5])(
    '$name: rows sum to c, b sums to 1, error weights sum to 0, stiffly accurate',
    (tab) => {
      expect(validateEsdirk(tab)).toEqual([]);
      const sum = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0);
      tab.a.forEach((row, i) => expect(sum(row) + tab.gamma).toBeCloseTo(tab.c[i + 1], 12));
      expect(sum(tab.b)).toBeCloseTo(1, 12);
      expect(sum(tab.bError)).toBeCloseTo(0, 12);
    },
  );

  it('rejects an inconsistent ESDIRK tableau', () => {
    expect(() => new EsdirkTableau({ ...KVAERNO3, name: 'bad', b: [0.5, 0.5, 0.1, KVAERNO3.gamma] })).toThrow(/b sums/);
  });

  it('rodas4: quadrature order 4 (embedded 3), stability function of order 4, L-stable', () => {
    expect(validateRosenbrock(RODAS4)).toEqual([]);
    expect(
      validateRosenbrock({ ...RODAS4, m: RODAS4.m.map((v, i) => (i === 0 ? v + 1e-3 : v)) }).length,
    ).toBeGreaterThan(0);
  });

  it('LU with partial pivoting solves real and complex batched blocks', () => {
    // Two 3×3 blocks, the first needing a row swap (zero pivot).
    const A = [
      [0, 2, 1, 1, 1, 0, 3, 1, 1],
      [4, 1, 0, 1, 5, 2, 0, 1, 6],
    ];
    const x = [1, -2, 3, 0.5, 0.25, -1];
    const b = new Float64Array(6);
    A.forEach((m, blk) => {
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) b[blk * 3 + i] += m[i * 3 + j] * x[blk * 3 + j];
    });
    const lu = luFactor(Float64Array.from(A.flat()), 2, 3);
    luSolve(lu, b);
    b.forEach((v, i) => expect(v).toBeCloseTo(x[i], 12));
    // Complex: ((2 + 3i) I − J) z = r with J = A (first block only), checked by multiplying back.
    const J = Float64Array.from(A[0]);
    const clu = luShiftedComplex(J, 1, 3, 2, 3);
    const zr = Float64Array.from([1, 2, 3]);
    const zi = Float64Array.from([0, -1, 1]);
    const [rr, ri] = [zr.slice(), zi.slice()];
    luSolveComplex(clu, zr, zi);
    for (let i = 0; i < 3; i++) {
      let sr = 2 * zr[i] - 3 * zi[i];
      let si = 2 * zi[i] + 3 * zr[i];
      for (let j = 0; j < 3; j++) {
        sr -= J[i * 3 + j] * zr[j];
        si -= J[i * 3 + j] * zi[j];
      }
      expect(sr).toBeCloseTo(rr[i], 12);
      expect(si).toBeCloseTo(ri[i], 12);
    }
  });

  it('Newton part: converges on a contraction with the rate estimate, reports divergence', () => {
    // x = 0.5·cos x with the frozen derivative G'(0) = 1: contraction rate |0.5·sin x*| ≈ 0.22.
    const newton = new NewtonSolver({ maxIterations: 20, carryRate: false });
    let x = 0;
    let dx = 0;
    const ok = newton.solve(
      () => ((dx = 0.5 * Math.cos(x) - x), Math.abs(dx) / 1e-9),
      () => (x += dx),
      1,
    );
    expect(ok.converged).toBe(true);
    expect(ok.rate).toBeGreaterThan(0.1);
    expect(ok.rate).toBeLessThan(0.3);
    expect(Math.abs(x - 0.5 * Math.cos(x))).toBeLessThan(1e-9);
    let y = 1;
    const bad = newton.solve(
      () => ((dx = y), Math.abs(y)),
      () => (y *= 2),
      1e-3,
    );
    expect(bad.converged).toBe(false);
    expect(bad.failure).toBe('diverging');
  });
});

describe.each(IMPLICIT)('%s', (method) => {
  const limits: Record<Implicit, Record<string, { steps: number; nfe: number }>> = {
    // Measured ratios to SciPy Radau (steps, nfe without the Jacobian's evaluations), see docs/benchmarks.md.
    radau5: { robertson: { steps: 1.5, nfe: 1.5 }, vdp1000: { steps: 1.5, nfe: 1.5 }, hires: { steps: 1.5, nfe: 1.5 } },
    rodas4: { robertson: { steps: 1.5, nfe: 1.5 }, vdp1000: { steps: 1.5, nfe: 1.5 }, hires: { steps: 1.6, nfe: 1.5 } },
    // kvaerno5 on HIRES: 1.75x Radau's nfe (7 stages, ~3.7 Newton iterations per step) — the 1.5x target is missed.
    kvaerno5: {
      robertson: { steps: 1.5, nfe: 1.5 },
      vdp1000: { steps: 1.5, nfe: 1.5 },
      hires: { steps: 1.5, nfe: 1.9 },
    },
    // kvaerno3 is third order: at rtol 1e-6 it needs 3.5–4x Radau's steps and ~3x its nfe — target missed.
    kvaerno3: {
      robertson: { steps: 3.8, nfe: 3.2 },
      vdp1000: { steps: 4.2, nfe: 3.4 },
      hires: { steps: 4.2, nfe: 3.2 },
    },
  };
  // Global error at the end, in units of the requested tolerance. Local error control does not bound the
  // global error; on Van der Pol each relaxation jump amplifies it (SciPy's BDF ends 89 units off there).
  // kvaerno3 on HIRES ends 7.8 units off (third order, error estimate of order 2): bound 10 for it.
  const accuracy: Record<string, number> = { robertson: 3, vdp1000: 20, hires: method === 'kvaerno3' ? 10 : 3 };

  it.each([ROBERTSON, VAN_DER_POL, HIRES])(
    '$name: reaches the reference within tolerance, work vs SciPy Radau',
    (p) => {
      const ref = scipy.problems[p.name];
      const { y, stats } = solve(p, method, method === 'rodas4' ? { autonomous: true } : {});
      expect(toleranceUnits(p, y, ref.reference.y_end)).toBeLessThan(accuracy[p.name]);
      const radau = ref.methods.Radau;
      const lim = limits[method][p.name];
      expect(stats.steps).toBeLessThanOrEqual(lim.steps * radau.steps);
      // SciPy's Radau nfev leaves out the finite-difference Jacobian's evaluations; so do we here.
      expect(stats.nfe - stats.nfeJacobian).toBeLessThanOrEqual(lim.nfe * radau.nfev);
      expect(stats.njev).toBeGreaterThan(0);
      expect(stats.nlu).toBeGreaterThan(0);
      expect(stats.accepted + stats.rejected).toBe(stats.steps);
    },
  );

  it('HIRES matches the published reference solution (IVP test set) to the tolerance', () => {
    const { y } = solve(HIRES, method);
    expect(toleranceUnits(HIRES, y, HIRES_REFERENCE)).toBeLessThan(method === 'kvaerno3' ? 10 : 3);
  });

  it('Robertson to t = 1e11 conserves y1 + y2 + y3 = 1 to 1e-8', () => {
    const r = odeint(ROBERTSON.f, ROBERTSON.y0, [0, 1e11], {
      method,
      rtol: 1e-6,
      atol: [1e-8, 1e-14, 1e-6],
      jacobian: ROBERTSON.jacobian,
      maxSteps: 100_000,
    });
    const y = r.ys[1];
    expect(Math.abs(y[0] + y[1] + y[2] - 1)).toBeLessThan(1e-8);
    expect(y[2]).toBeGreaterThan(0.999); // nearly all converted by 1e11
  });

  it('convergence order on a stiff linear system (eigenvalues −1, −1e4, −1e8) with constant steps', () => {
    const order = { radau5: 5, rodas4: 4, kvaerno5: 5, kvaerno3: 3 }[method];
    const sys = stiffLinear(1e8);
    const y0 = [1, 1, 1];
    const exact = sys.exact(1, y0);
    const hs = order >= 5 ? [1 / 4, 1 / 8, 1 / 16] : [1 / 8, 1 / 16, 1 / 32];
    const errs = hs.map((h) => {
      const r = odeint(sys.f, y0, [0, 1], { method, stepSize: h, jacobian: () => sys.A });
      return Math.max(...exact.map((v, i) => Math.abs(r.ys[1][i] - v)));
    });
    expect(Math.abs(logLogSlope(hs, errs) - order)).toBeLessThan(0.35);
  });
});

describe('auto and errors', () => {
  it("'auto' on Van der Pol μ=1000: ≤ 1.5x the nfe of the best implicit method, a small fraction of dopri5's", () => {
    const auto = solve(VAN_DER_POL, 'auto');
    const best = Math.min(...(['radau5', 'rodas4', 'kvaerno5'] as const).map((m) => solve(VAN_DER_POL, m).stats.nfe));
    expect(auto.stats.switches).toBeGreaterThanOrEqual(1);
    expect(auto.stats.stepsByMethod.dopri5).toBeGreaterThan(0);
    expect(auto.stats.stepsByMethod.radau5).toBeGreaterThan(0);
    expect(auto.stats.nfe).toBeLessThanOrEqual(1.5 * best); // measured: 0.76x (5624 vs rodas4's 7352)
    expect(toleranceUnits(VAN_DER_POL, auto.y, scipy.problems.vdp1000.reference.y_end)).toBeLessThan(20);
    // dopri5 alone: 50,000 steps (≥ 300,000 evaluations) do not reach t = 3000.
    let dopriNfe = 0;
    try {
      odeint(VAN_DER_POL.f, VAN_DER_POL.y0, [0, 3000], { method: 'dopri5', rtol: 1e-6, atol: 1e-6, maxSteps: 50_000 });
    } catch (e) {
      expect((e as OdeError).reason).toBe('too_many_steps');
      dopriNfe = 6 * 50_000;
    }
    expect(dopriNfe).toBeGreaterThan(0);
    expect(auto.stats.nfe / dopriNfe).toBeLessThan(0.02);
  });

  // Measured worst errors in tolerance units: radau5 0.12 (collocation polynomial), rodas4 3.3 (its
  // 3rd-order interpolant), kvaerno3 0.54, kvaerno5 62: the ESDIRKs use a cubic Hermite interpolant,
  // and kvaerno5's 76 long steps make it the weak point (a proper continuous extension is missing).
  const denseBound: Record<Implicit, number> = { radau5: 1, rodas4: 5, kvaerno3: 2, kvaerno5: 80 };
  it('dense output between steps agrees with the reference solution', () => {
    const ts = [0, 0.4, 4, 40, 400, 4000, 40_000];
    const ref = odeint(ROBERTSON.f, ROBERTSON.y0, ts, { method: 'radau5', rtol: 1e-10, atol: [1e-14, 1e-20, 1e-14] });
    for (const method of IMPLICIT) {
      const r = odeint(ROBERTSON.f, ROBERTSON.y0, ts, { method, rtol: 1e-6, atol: [1e-8, 1e-14, 1e-6] });
      expect(r.ts).toEqual(ts);
      r.ys.forEach((y, k) =>
        expect(toleranceUnits(ROBERTSON, y, Array.from(ref.ys[k]))).toBeLessThan(denseBound[method]),
      );
    }
  });

  it('failures are OdeErrors with actionable messages', () => {
    expect(() => odeint(ROBERTSON.f, ROBERTSON.y0, [0, 1e5], { method: 'radau5', maxSteps: 5 })).toThrow(/maxSteps/);
    expect(() => odeint(ROBERTSON.f, ROBERTSON.y0, [0, 1], { method: 'radau5', events: [{ fn: () => 1 }] })).toThrow(
      /Events are not supported/,
    );
    expect(() => odeint((_t, y) => [y[0] * y[0]], [1], [0, 2], { method: 'radau5' })).toThrow(OdeError);
  });
});
