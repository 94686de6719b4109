import { PIController, type ControllerState } from '../controller';
import { OdeError } from '../errors';
import { PredictiveController, type PredictiveState } from './controller';
import { allFinite, type StiffSystem } from './system';
import type { StepAttempt, StiffStepper } from './stepper';

/** Stiffness test and switching of {@link integrateStiff} in 'auto' mode. */
export interface SwitchingPolicy {
  /** The explicit method (non-stiff phases). */
  explicit: StiffStepper & { stiffnessDetected(): boolean; resetDetector(): void };
  /** The implicit method (stiff phases). */
  implicit: StiffStepper;
  /**
   * Switch back to the explicit method after this many consecutive accepted implicit steps with
   * |h|·‖J‖∞ below `explicitStability` (default 20).
   */
  nonStiffSteps?: number;
  /** Stability bound of the explicit method along the negative real axis (dopri5: about 3.3; default 3.25). */
  explicitStability?: number;
}

/** Inputs of {@link integrateStiff}. */
export interface StiffIntegrateConfig {
  sys: StiffSystem;
  y0: Float64Array;
  /** Output times, validated strictly monotonic. */
  ts: readonly number[];
  /** The method (ignored in 'auto' mode: `switching` holds both). */
  stepper?: StiffStepper;
  switching?: SwitchingPolicy;
  controller?: PredictiveController;
  firstStep?: number;
  maxSteps: number;
  maxStep: number;
  /** Constant steps of this size (no error control; for convergence studies). */
  stepSize?: number;
}

/** Output of {@link integrateStiff}. */
export interface StiffIntegrateResult {
  ts: number[];
  ys: Float64Array[];
  lastStep: number;
  nextStep: number;
}

const minStepAt = (t: number): number => 10 * Math.max(Math.abs(t) * Number.EPSILON, Number.MIN_VALUE);

/**
 * The integration loop of the implicit methods (and of 'auto'): attempts steps with the stepper,
 * lets the controller decide acceptance and the next step (halving the step when Newton fails even
 * with a fresh Jacobian), fills the output times from each accepted step's dense output, and in
 * 'auto' mode switches between an explicit and an implicit stepper (Hairer's DOPRI5 stiffness test
 * one way; the implicit step against the explicit stability bound the other, as LSODA).
 */
export function integrateStiff(cfg: StiffIntegrateConfig): StiffIntegrateResult {
  const { sys, ts } = cfg;
  const stats = sys.stats;
  const controller = cfg.controller ?? new PredictiveController();
  const pi = new PIController();
  const sw = cfg.switching;
  let stepper: StiffStepper = sw ? sw.explicit : (cfg.stepper as StiffStepper);
  const isExplicit = () => sw !== undefined && stepper === sw.explicit;
  const ys: Float64Array[] = [cfg.y0.slice()];
  const out: StiffIntegrateResult = { ts: [ts[0]], ys, lastStep: 0, nextStep: 0 };
  if (ts.length === 1) return out;
  const tEnd = ts[ts.length - 1];
  const dir = Math.sign(tEnd - ts[0]);
  let t = ts[0];
  let y = cfg.y0;
  if (!allFinite(y))
    throw new OdeError('non_finite_state', `The initial state at t=${t} is not finite.`, { t, step: 0 });
  let f = sys.f(t, y);
  if (!allFinite(f))
    throw new OdeError('non_finite_state', `The vector field is not finite at the initial state (t=${t}, step 0).`, {
      t,
      step: 0,
    });
  stepper.start(sys, t, y, f);
  const fixed = cfg.stepSize;
  let hAbs =
    fixed ?? cfg.firstStep ?? sys.initialStep(t, y, f, dir, stepper.errorOrder, Math.abs(tEnd - t), cfg.maxStep);
  hAbs = Math.abs(hAbs);
  let pstate: PredictiveState = controller.init();
  let estate: ControllerState = pi.init();
  let retry = false;
  let outIdx = 1;
  let calmSteps = 0;
  const nonStiffSteps = sw?.nonStiffSteps ?? 20;
  const stabilityBound = sw?.explicitStability ?? 3.25;

  while (dir * (tEnd - t) > 0) {
    if (stats.steps >= cfg.maxSteps)
      throw new OdeError(
        'too_many_steps',
        `The maximum number of solver steps (${cfg.maxSteps}) was reached at t=${t} before t=${tEnd} (method ${stepper.name}). Try increasing \`maxSteps\` or loosening rtol/atol.`,
        { t, h: dir * hAbs, step: stats.steps },
      );
    hAbs = Math.min(hAbs, cfg.maxStep);
    if (!(hAbs >= minStepAt(t)))
      throw new OdeError(
        'step_size_underflow',
        `Step size underflow at t=${t} (method ${stepper.name}): the step shrank to h=${dir * hAbs} because ${retry ? 'the error test or the Newton iteration kept failing' : 'the error estimate demanded it'}. The solution may blow up or have a singularity here; check the vector field and the Jacobian, or loosen rtol/atol.`,
        { t, h: dir * hAbs, step: stats.steps },
      );
    let tNew = fixed !== undefined ? ts[0] + dir * fixed * (stats.accepted + 1) : t + dir * hAbs;
    if (dir * (tNew - tEnd) > -1e-9 * hAbs) tNew = tEnd;
    const h = tNew - t;
    hAbs = Math.abs(h);
    const res = stepper.attempt(t, y, f, h, retry);
    stats.steps++;
    stats.stepsByMethod[stepper.name] = (stats.stepsByMethod[stepper.name] ?? 0) + 1;
    if (!res.ok) {
      if (fixed !== undefined)
        throw new OdeError(
          'step_size_underflow',
          `${stepper.name}: ${res.reason} at t=${t} with the constant step ${h}. Use a smaller \`stepSize\` or adaptive steps.`,
          { t, h, step: stats.steps },
        );
      stats.rejected++;
      hAbs *= 0.5;
      retry = true;
      continue;
    }
    const attempt: StepAttempt = res;
    let hNext: number;
    if (fixed !== undefined) hNext = fixed;
    else if (isExplicit()) {
      const dec = pi.adapt(estate, res.err, hAbs, stepper.errorOrder);
      estate = dec.state;
      hNext = dec.hNext;
      if (!dec.accept) {
        stats.rejected++;
        hAbs = hNext;
        retry = true;
        continue;
      }
    } else {
      const dec = controller.adapt(pstate, res.err, hAbs, stepper.errorOrder, res.info);
      pstate = dec.state;
      hNext = dec.hNext;
      if (!dec.accept) {
        stats.rejected++;
        hAbs = hNext;
        retry = true;
        continue;
      }
    }
    if (!allFinite(attempt.y1))
      throw new OdeError(
        'non_finite_state',
        `The solution became non-finite (NaN or ±Infinity) in the step from t=${t} to t=${tNew} (step ${stats.steps}). Check the vector field for a singularity or overflow near this time.`,
        { t, h, step: stats.steps },
      );
    retry = false;
    stats.accepted++;
    if (Number.isFinite(attempt.err)) stats.errorEstimate = Math.max(stats.errorEstimate, attempt.err);
    const f1 = attempt.f1 ?? sys.f(tNew, attempt.y1);
    while (outIdx < ts.length && dir * (ts[outIdx] - tNew) <= 0) {
      const tk = ts[outIdx];
      ys.push(tk === tNew ? attempt.y1.slice() : attempt.dense(tk));
      out.ts.push(tk);
      outIdx++;
    }
    stepper.accepted(tNew, attempt.y1, f1, attempt, h);
    t = tNew;
    y = attempt.y1;
    f = f1;
    out.lastStep = h;
    hAbs = hNext;

    if (sw && dir * (tEnd - t) > 0) {
      if (isExplicit()) {
        if (sw.explicit.stiffnessDetected()) {
          stepper = sw.implicit;
          stepper.start(sys, t, y, f);
          pstate = controller.init();
          stats.switches++;
          calmSteps = 0;
        }
      } else {
        const s = stepper.stiffness?.(hAbs) ?? NaN;
        calmSteps = s < stabilityBound ? calmSteps + 1 : 0;
        if (calmSteps >= nonStiffSteps) {
          stepper = sw.explicit;
          sw.explicit.resetDetector();
          stepper.start(sys, t, y, f);
          estate = pi.init();
          stats.switches++;
        }
      }
    }
  }
  out.nextStep = dir * Math.min(hAbs, cfg.maxStep);
  return out;
}
