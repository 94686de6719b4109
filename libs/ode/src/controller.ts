/**
 * Step-size controllers, separate from the solvers (the diffrax design): a solver proposes a step and
 * an error estimate; the controller alone decides acceptance and the next step size. Implicit (stiff)
 * solvers reuse the same controllers.
 */

/** State carried between steps; kept explicit so a solve can be resumed (warm-started). */
export interface ControllerState {
  /** Scaled error of the previous accepted step (1 before the first one). */
  readonly prevError: number;
  /** Whether the step now being retried was rejected at least once. */
  readonly rejected: boolean;
}

/** Outcome of one `adapt` call. */
export interface ControllerDecision {
  /** Accept the attempted step. */
  readonly accept: boolean;
  /** Magnitude of the next step to attempt (after an acceptance or for the retry). */
  readonly hNext: number;
  readonly state: ControllerState;
}

/** Decides step acceptance and size from a scaled error norm. */
export interface StepSizeController {
  /** False for constant steps: no error estimate needed, every step accepted. */
  readonly adaptive: boolean;
  /** For constant-step controllers: the step magnitude (undefined: step from output time to output time). */
  readonly stepSize?: number;
  /** Initial state. */
  init(): ControllerState;
  /**
   * @param errorNorm scaled RMS norm of the local error estimate (≤ 1 means within tolerance)
   * @param hAbs magnitude of the attempted step
   * @param errorOrder order q of the embedded estimate (the local error behaves like h^(q+1))
   */
  adapt(state: ControllerState, errorNorm: number, hAbs: number, errorOrder: number): ControllerDecision;
}

/** Options of {@link PIController}. */
export interface PIControllerOptions {
  /** Safety factor on the asymptotically optimal step (default 0.9). */
  safety?: number;
  /** Smallest step ratio after a rejection (default 0.2). */
  minFactor?: number;
  /** Largest step ratio after an acceptance (default 10). */
  maxFactor?: number;
  /** Integral coefficient β_I (default 1). */
  icoeff?: number;
  /** Proportional coefficient β_P (default 0: a pure integral controller, as SciPy and torchdiffeq). */
  pcoeff?: number;
}

/**
 * PI step-size controller (Hairer, Nørsett & Wanner I, II.4 and Hairer & Wanner II, IV.2; Gustafsson
 * 1991; parameterised as diffrax's `PIDController`):
 *
 *   factor = safety · err_n^(-(β_I+β_P)/k) · err_{n-1}^(β_P/k),   k = q + 1,
 *
 * clipped to [minFactor, maxFactor]. A step is accepted when err ≤ 1; right after a rejection the step
 * may not grow (factor ≤ 1). With the defaults (β_P = 0) this is exactly SciPy's `solve_ivp` RK45
 * controller, which is why our function-evaluation counts match SciPy's.
 */
export class PIController implements StepSizeController {
  readonly adaptive = true;
  readonly safety: number;
  readonly minFactor: number;
  readonly maxFactor: number;
  readonly icoeff: number;
  readonly pcoeff: number;

  constructor(options: PIControllerOptions = {}) {
    this.safety = options.safety ?? 0.9;
    this.minFactor = options.minFactor ?? 0.2;
    this.maxFactor = options.maxFactor ?? 10;
    this.icoeff = options.icoeff ?? 1;
    this.pcoeff = options.pcoeff ?? 0;
  }

  init(): ControllerState {
    return { prevError: 1, rejected: false };
  }

  adapt(state: ControllerState, errorNorm: number, hAbs: number, errorOrder: number): ControllerDecision {
    const k = errorOrder + 1;
    if (!(errorNorm <= 1)) {
      // Rejected (NaN lands here too): shrink, never below minFactor.
      const raw = Number.isFinite(errorNorm) ? this.safety * errorNorm ** (-1 / k) : 0;
      const factor = Math.max(this.minFactor, Math.min(1, raw));
      return { accept: false, hNext: hAbs * factor, state: { prevError: state.prevError, rejected: true } };
    }
    let factor: number;
    if (errorNorm === 0) factor = this.maxFactor;
    else {
      const beta1 = (this.icoeff + this.pcoeff) / k;
      const beta2 = this.pcoeff / k;
      factor = this.safety * errorNorm ** -beta1 * Math.max(state.prevError, 1e-10) ** beta2;
      factor = Math.min(this.maxFactor, Math.max(this.minFactor, factor));
    }
    if (state.rejected) factor = Math.min(1, factor);
    return { accept: true, hNext: hAbs * factor, state: { prevError: Math.max(errorNorm, 1e-10), rejected: false } };
  }
}

/** Constant step size: every step is accepted and the next has the same size (diffrax `ConstantStepSize`). */
export class ConstantStepSize implements StepSizeController {
  readonly adaptive = false;

  /** @param stepSize the step magnitude; undefined steps exactly from one output time to the next. */
  constructor(readonly stepSize?: number) {}

  init(): ControllerState {
    return { prevError: 1, rejected: false };
  }

  adapt(state: ControllerState, _errorNorm: number, _hAbs: number): ControllerDecision {
    return { accept: true, hNext: this.stepSize ?? Infinity, state };
  }
}
