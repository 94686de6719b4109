/**
 * Stiff reference problems (Hairer & Wanner, *Solving ODEs II*, IV.1 and IV.10; the IVP test set of
 * Mazzia & Magherini), with analytic Jacobians; the same definitions as bench/reference/scipy_stiff.py.
 */

/** A stiff test problem on the float64 path. */
export interface StiffProblem {
  readonly name: string;
  readonly f: (t: number, y: Float64Array) => number[];
  readonly jacobian: (t: number, y: Float64Array) => number[][];
  readonly y0: readonly number[];
  readonly t0: number;
  readonly t1: number;
  readonly rtol: number;
  readonly atol: number | readonly number[];
}

/** Robertson's chemical kinetics, k1 = 0.04, k2 = 3e7, k3 = 1e4 (Hairer & Wanner II, IV.1, eq. 1.4). */
export const ROBERTSON: StiffProblem = {
  name: 'robertson',
  f: (_t, y) => [
    -0.04 * y[0] + 1e4 * y[1] * y[2],
    0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1],
    3e7 * y[1] * y[1],
  ],
  jacobian: (_t, y) => [
    [-0.04, 1e4 * y[2], 1e4 * y[1]],
    [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
    [0, 6e7 * y[1], 0],
  ],
  y0: [1, 0, 0],
  t0: 0,
  t1: 1e5,
  rtol: 1e-6,
  atol: [1e-8, 1e-14, 1e-6],
};

const MU = 1000;

/** Van der Pol's oscillator y1'' − μ(1 − y1²) y1' + y1 = 0 with μ = 1000 on [0, 3000] (SciPy's `solve_ivp` stiff example; Hairer & Wanner II, IV.1, unscaled). */
export const VAN_DER_POL: StiffProblem = {
  name: 'vdp1000',
  f: (_t, y) => [y[1], MU * (1 - y[0] * y[0]) * y[1] - y[0]],
  jacobian: (_t, y) => [
    [0, 1],
    [-2 * MU * y[0] * y[1] - 1, MU * (1 - y[0] * y[0])],
  ],
  y0: [2, 0],
  t0: 0,
  t1: 3000,
  rtol: 1e-6,
  atol: 1e-6,
};

/** HIRES, Schäfer's 8-species model of photomorphogenesis (Hairer & Wanner II, IV.10). */
export const HIRES: StiffProblem = {
  name: 'hires',
  f: (_t, y) => [
    -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007,
    1.71 * y[0] - 8.75 * y[1],
    -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4],
    8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3],
    -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6],
    -280 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6],
    280 * y[5] * y[7] - 1.81 * y[6],
    -280 * y[5] * y[7] + 1.81 * y[6],
  ],
  jacobian: (_t, y) => {
    const J = Array.from({ length: 8 }, () => new Array<number>(8).fill(0));
    [J[0][0], J[0][1], J[0][2]] = [-1.71, 0.43, 8.32];
    [J[1][0], J[1][1]] = [1.71, -8.75];
    [J[2][2], J[2][3], J[2][4]] = [-10.03, 0.43, 0.035];
    [J[3][1], J[3][2], J[3][3]] = [8.32, 1.71, -1.12];
    [J[4][4], J[4][5], J[4][6]] = [-1.745, 0.43, 0.43];
    [J[5][3], J[5][4], J[5][5], J[5][6], J[5][7]] = [0.69, 1.71, -0.43 - 280 * y[7], 0.69, -280 * y[5]];
    [J[6][5], J[6][6], J[6][7]] = [280 * y[7], -1.81, 280 * y[5]];
    [J[7][5], J[7][6], J[7][7]] = [-280 * y[7], 1.81, -280 * y[5]];
    return J;
  },
  y0: [1, 0, 0, 0, 0, 0, 0, 0.0057],
  t0: 0,
  t1: 321.8122,
  rtol: 1e-6,
  atol: 1e-9,
};

/**
 * HIRES reference solution at t = 321.8122 published with the IVP test set (Mazzia & Magherini,
 * `hires.f`, computed with RADAU5 at tight tolerances).
 */
export const HIRES_REFERENCE = [
  0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2, 0.2386356198831331e-2,
  0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2,
];

export const STIFF_PROBLEMS: readonly StiffProblem[] = [ROBERTSON, VAN_DER_POL, HIRES];

/**
 * A stiff linear system y' = A y with A = V diag(λ) V⁻¹ (V = I + 0.5·upper shift, so the modes couple),
 * eigenvalues λ = (−1, −λ_max^(1/2), −λ_max): exact solution V diag(e^{λt}) V⁻¹ y0.
 */
export function stiffLinear(lambdaMax: number): {
  A: number[][];
  f: (t: number, y: Float64Array) => number[];
  exact: (t: number, y0: readonly number[]) => number[];
} {
  const lam = [-1, -Math.sqrt(lambdaMax), -lambdaMax];
  const V = [
    [1, 0.5, 0],
    [0, 1, 0.5],
    [0, 0, 1],
  ];
  const Vi = [
    [1, -0.5, 0.25],
    [0, 1, -0.5],
    [0, 0, 1],
  ];
  const A = V.map((row) => Vi[0].map((_, j) => row.reduce((s, vik, k) => s + vik * lam[k] * Vi[k][j], 0)));
  const f = (_t: number, y: Float64Array) => A.map((row) => row[0] * y[0] + row[1] * y[1] + row[2] * y[2]);
  const exact = (t: number, y0: readonly number[]) => {
    const w = Vi.map((row) => row[0] * y0[0] + row[1] * y0[1] + row[2] * y0[2]).map((v, k) => v * Math.exp(lam[k] * t));
    return V.map((row) => row[0] * w[0] + row[1] * w[1] + row[2] * w[2]);
  };
  return { A, f, exact };
}
