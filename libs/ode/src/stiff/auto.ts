/**
 * The explicit half of 'auto': dopri5 (Dormand & Prince 1980) as a {@link StiffStepper}, with Hairer's
 * stiffness test from DOPRI5 (Hairer, Nørsett & Wanner I, II.10 and IV.2 of vol. II): after each
 * accepted step, |h|·λ ≈ |h|·‖k7 − k6‖ / ‖y1 − ŷ6‖ estimates the step times the dominant eigenvalue
 * from the last two stages (both at t + h); when it exceeds 3.25 (the boundary of dopri5's stability
 * region) in 15 tests before 6 negative ones in a row reset the count, the problem is stiff.
 */
import { Float64Ops } from '../backend/float64-ops';
import { ExplicitRungeKutta } from '../solver';
import { DOPRI5 } from '../tableaux';
import type { StepAttempt, StiffStepper } from './stepper';
import type { StiffSystem } from './system';

/** Options of {@link Dopri5Detector}. */
export interface StiffnessTestOptions {
  /** Threshold on |h|·λ (default 3.25). */
  threshold?: number;
  /** Positive tests needed (default 15). */
  positives?: number;
  /** Negative tests in a row that reset the count (default 6). */
  resetAfter?: number;
}

/** dopri5 with Hairer's stiffness detection. */
export class Dopri5Detector implements StiffStepper {
  readonly name = 'dopri5';
  readonly order = 5;
  readonly errorOrder = 4;
  private readonly rk = new ExplicitRungeKutta(DOPRI5);
  private sys!: StiffSystem;
  private ops!: Float64Ops;
  private positives = 0;
  private negatives = 0;
  private readonly threshold: number;
  private readonly needed: number;
  private readonly resetAfter: number;

  constructor(options: StiffnessTestOptions = {}) {
    this.threshold = options.threshold ?? 3.25;
    this.needed = options.positives ?? 15;
    this.resetAfter = options.resetAfter ?? 6;
  }

  start(sys: StiffSystem): void {
    this.sys = sys;
    this.ops = new Float64Ops(sys.n, { rtol: sys.rtol, atol: sys.atol });
  }

  attempt(t: number, y: Float64Array, f: Float64Array, h: number): StepAttempt {
    const sys = this.sys;
    const step = this.rk.step(this.ops, (tt, yy) => sys.f(tt, yy), t, y, f, h);
    const err = sys.norm(step.yErr as Float64Array, y, step.y1);
    const k = step.stages;
    // ŷ6, the argument of stage 6 (c = 1): y0 + h Σ a_6j k_j; k7 = f(t + h, y1).
    const row = DOPRI5.a[4];
    let num = 0;
    let den = 0;
    for (let q = 0; q < y.length; q++) {
      let ysti = y[q];
      for (let j = 0; j < row.length; j++) ysti += h * row[j] * k[j][q];
      num += (k[6][q] - k[5][q]) ** 2;
      den += (step.y1[q] - ysti) ** 2;
    }
    this.pending = den > 0 ? Math.abs(h) * Math.sqrt(num / den) : NaN;
    const interp = this.rk.interpolant(this.ops, t, h, y, step, () => step.f1 as Float64Array);
    return {
      ok: true,
      y1: step.y1,
      f1: step.f1,
      err,
      info: { newtonIterations: 0, maxNewtonIterations: 0, luReusable: false },
      dense: (tq) => interp.evaluate(tq),
    };
  }

  accepted(): void {
    const hlamb = this.pending;
    if (Number.isNaN(hlamb)) return;
    if (hlamb > this.threshold) {
      this.negatives = 0;
      this.positives++;
    } else if (++this.negatives >= this.resetAfter) this.positives = 0;
  }

  /** |h|·λ estimated by the last attempted step (NaN when undefined). */
  get lastEstimate(): number {
    return this.pending;
  }

  private pending = NaN;

  stiffnessDetected(): boolean {
    return this.positives >= this.needed;
  }

  resetDetector(): void {
    this.positives = 0;
    this.negatives = 0;
  }
}
