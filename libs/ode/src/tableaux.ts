/**
 * The explicit Runge–Kutta methods shipped with `@continuum/ode`, as data.
 *
 * References:
 * - Euler, explicit midpoint and classic RK4: Hairer, Nørsett & Wanner, *Solving Ordinary
 *   Differential Equations I* (2nd ed., 1993), Sec. II.1.
 * - bosh3: P. Bogacki & L. F. Shampine, "A 3(2) pair of Runge–Kutta formulas", Appl. Math. Lett.
 *   2(4), 1989; dense output is the cubic Hermite interpolant written in stage form (as SciPy's RK23).
 * - dopri5: J. R. Dormand & P. J. Prince, "A family of embedded Runge–Kutta formulae", J. Comput.
 *   Appl. Math. 6(1), 1980; 4th-order dense output from L. F. Shampine, "Some practical Runge–Kutta
 *   formulas", Math. Comp. 46(173), 1986 (the coefficients of SciPy's RK45 / Hairer's DOPRI5 `contd5`).
 * - tsit5: Ch. Tsitouras, "Runge–Kutta pairs of order 5(4) satisfying only the first column
 *   simplifying assumption", Comput. Math. Appl. 62(2), 2011, with its own interpolant from the
 *   same paper (coefficients as in diffrax / OrdinaryDiffEq).
 */
import { ButcherTableau } from './tableau';

/** Forward Euler: order 1, one stage. */
export const EULER = new ButcherTableau({ name: 'euler', order: 1, c: [0], a: [], b: [1] });

/** Explicit midpoint rule: order 2. */
export const MIDPOINT = new ButcherTableau({ name: 'midpoint', order: 2, c: [0, 1 / 2], a: [[1 / 2]], b: [0, 1] });

/** The classic fourth-order Runge–Kutta method. */
export const RK4 = new ButcherTableau({
  name: 'rk4',
  order: 4,
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
});

/** Bogacki–Shampine 3(2), FSAL. */
export const BOSH3 = new ButcherTableau({
  name: 'bosh3',
  order: 3,
  errorOrder: 2,
  c: [0, 1 / 2, 3 / 4, 1],
  a: [[1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  bError: [5 / 72, -1 / 12, -1 / 9, 1 / 8],
  dense: [
    [1, -4 / 3, 5 / 9],
    [0, 1, -2 / 3],
    [0, 4 / 3, -8 / 9],
    [0, -1, 1],
  ],
});

/** Dormand–Prince 5(4), FSAL, with Shampine's 4th-order dense output. */
export const DOPRI5 = new ButcherTableau({
  name: 'dopri5',
  order: 5,
  errorOrder: 4,
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  bError: [-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40],
  dense: [
    [1, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0, 0, 0, 0],
    [0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
  ],
});

/** Polynomial product, coefficients in ascending powers. */
function polyMul(p: readonly number[], q: readonly number[]): number[] {
  const out = new Array<number>(p.length + q.length - 1).fill(0);
  p.forEach((pi, i) => q.forEach((qj, j) => (out[i + j] += pi * qj)));
  return out;
}

/** Expands a product of polynomial factors into the θ^1..θ^4 coefficients of a dense-output weight. */
function denseRow(scale: number, ...factors: number[][]): number[] {
  const full = factors.reduce((acc, f) => polyMul(acc, f), [scale]);
  const row = full.slice(1, 5);
  while (row.length < 4) row.push(0);
  return row;
}

const tsit5B = [
  0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0,
];
const tsit5BHat = [
  0.09468075576583947,
  0.009183565540343254,
  0.4877705284247616,
  1.234297566930479,
  -2.7077123499835256,
  1.866628418170587,
  1 / 66,
];
const T = [0, 1]; // θ
const T2 = [0, 0, 1]; // θ²

/** Tsitouras 5(4), FSAL, with its own 4th-order interpolant. */
export const TSIT5 = new ButcherTableau({
  name: 'tsit5',
  order: 5,
  errorOrder: 4,
  c: [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1],
  a: [
    [0.161],
    [-0.008480655492356989, 0.335480655492357],
    [2.897153057105493, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
    tsit5B.slice(0, 6),
  ],
  b: tsit5B,
  bError: tsit5B.map((bj, j) => bj - tsit5BHat[j]),
  dense: [
    denseRow(-1.0530884977290216, T, [-1.329989018975141, 1], [0.7139816917074209, -1.4364028541716352, 1]),
    denseRow(0.1017, T2, [1.294985250737463, -2.1966568338249752, 1]),
    denseRow(2.490627285651253, T2, [1.5780346820809248, -2.3853564547206165, 1]),
    denseRow(-16.548102889244902, T2, [-1.2171292729553325, 1], [-0.6162040603780009, 1]),
    denseRow(47.37952196281928, T2, [-1.2030712083723627, 1], [-0.6580472926535473, 1]),
    denseRow(-34.87065786149661, T2, [-1.2, 1], [-0.6666666666666666, 1]),
    denseRow(2.5, T2, [-1, 1], [-0.6, 1]),
  ],
});

/** Names accepted by `odeint`'s `method` option. */
export type MethodName = 'euler' | 'midpoint' | 'rk4' | 'bosh3' | 'dopri5' | 'tsit5';

/** Every shipped tableau by name. */
export const TABLEAUX: Readonly<Record<MethodName, ButcherTableau>> = {
  euler: EULER,
  midpoint: MIDPOINT,
  rk4: RK4,
  bosh3: BOSH3,
  dopri5: DOPRI5,
  tsit5: TSIT5,
};
