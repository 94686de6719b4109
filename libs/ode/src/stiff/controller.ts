/**
 * Step-size controller of the implicit methods: Gustafsson's predictive controller (K. Gustafsson,
 * "Control-theoretic techniques for stepsize selection in implicit Runge–Kutta methods", ACM TOMS 20,
 * 1994; Hairer & Wanner II, IV.8, eq. 8.25) as in Hairer's RADAU5 and SciPy's Radau:
 *
 *   factor = safety · min(1, (h_n / h_{n−1}) · (err_{n−1} / err_n)^(1/k)) · err_n^(−1/k),   k = q + 1,
 *
 * with safety = 0.9·(2·kmax + 1)/(2·kmax + newton iterations) (fewer Newton iterations, bolder steps).
 * To keep the LU factorisation, the step is left unchanged after an acceptance when the proposed
 * factor is below `holdBelow` (1.2) and the stepper can reuse its Jacobian.
 */

/** State carried between steps (explicit, so a solve can be resumed). */
export interface PredictiveState {
  /** Size of the last accepted step, or NaN before the first. */
  readonly hPrev: number;
  /** Scaled error of the last accepted step, or NaN. */
  readonly errPrev: number;
}

/** What the stepper tells the controller besides the error. */
export interface StepInfo {
  /** Largest number of Newton iterations a stage system needed (0 for linearly implicit methods). */
  readonly newtonIterations: number;
  /** The Newton solver's iteration limit (for the safety factor). */
  readonly maxNewtonIterations: number;
  /** Whether the stepper can reuse its Jacobian and LU if h stays the same. */
  readonly luReusable: boolean;
}

/** Options of {@link PredictiveController}. */
export interface PredictiveControllerOptions {
  /** Smallest step ratio (default 0.2). */
  minFactor?: number;
  /** Largest step ratio (default 10, SciPy's; Hairer's RADAU5 uses 8). */
  maxFactor?: number;
  /** Keep h when the factor is below this and the LU can be reused (default 1.2). */
  holdBelow?: number;
  /** Base safety factor (default 0.9). */
  safety?: number;
}

/** Gustafsson's predictive step-size controller with LU-saving step holding. */
export class PredictiveController {
  readonly minFactor: number;
  readonly maxFactor: number;
  readonly holdBelow: number;
  readonly safety: number;

  constructor(options: PredictiveControllerOptions = {}) {
    this.minFactor = options.minFactor ?? 0.2;
    this.maxFactor = options.maxFactor ?? 10;
    this.holdBelow = options.holdBelow ?? 1.2;
    this.safety = options.safety ?? 0.9;
  }

  init(): PredictiveState {
    return { hPrev: NaN, errPrev: NaN };
  }

  private factor(state: PredictiveState, err: number, hAbs: number, k: number): number {
    const mult =
      Number.isFinite(state.hPrev) && Number.isFinite(state.errPrev) && err > 0
        ? (hAbs / state.hPrev) * (state.errPrev / err) ** (1 / k)
        : 1;
    return err === 0 ? Infinity : Math.min(1, mult) * err ** (-1 / k);
  }

  /**
   * @param err scaled error norm of the attempted step (≤ 1: accept)
   * @param hAbs attempted step magnitude; @param errorOrder order q of the error estimate
   * @returns acceptance, next step magnitude and the new state
   */
  adapt(
    state: PredictiveState,
    err: number,
    hAbs: number,
    errorOrder: number,
    info: StepInfo,
  ): { accept: boolean; hNext: number; state: PredictiveState } {
    const k = errorOrder + 1;
    const kmax = info.maxNewtonIterations;
    const safety =
      info.newtonIterations > 0 ? (this.safety * (2 * kmax + 1)) / (2 * kmax + info.newtonIterations) : this.safety;
    if (!(err <= 1)) {
      const f = Number.isFinite(err) ? safety * this.factor(state, err, hAbs, k) : 0;
      return { accept: false, hNext: hAbs * Math.max(this.minFactor, Math.min(1, f)), state };
    }
    let f = Math.min(this.maxFactor, safety * this.factor(state, err, hAbs, k));
    if (info.luReusable && f < this.holdBelow) f = 1;
    return { accept: true, hNext: hAbs * f, state: { hPrev: hAbs, errPrev: Math.max(err, 1e-10) } };
  }
}
