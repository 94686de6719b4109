import type { ArrayOps } from './backend/array-ops';
import type { ControllerState, StepSizeController } from './controller';
import { OdeError } from './errors';
import { brentRoot, crosses, type EventSpec, type OdeEvent } from './events';
import { initialStepSize } from './initial-step';
import type { OdeSolver, Rhs, StepResult } from './solver';
import { emptyStats, type SolverStats } from './stats';

/** Inputs of the backend-independent integration loop. */
export interface IntegrateConfig<A> {
  ops: ArrayOps<A>;
  rhs: Rhs<A>;
  y0: A;
  /** Output times, validated strictly monotonic, `ts[0]` the initial time. */
  ts: readonly number[];
  solver: OdeSolver;
  controller: StepSizeController;
  /** Magnitude of the first step; default: Hairer's automatic choice (adaptive) or the constant step. */
  firstStep?: number;
  /** Largest number of step attempts. */
  maxSteps: number;
  /** Largest step magnitude. */
  maxStep: number;
  events?: readonly EventSpec<A>[];
  /** Controller state to resume from (warm start). */
  controllerState?: ControllerState;
}

/** Output of the integration loop. */
export interface IntegrateResult<A> {
  /** Output times reached (all of `ts`, or those before a terminal event). */
  ts: number[];
  /** States at `ts` (arrays the caller owns). */
  ys: A[];
  stats: SolverStats;
  events: OdeEvent<A>[];
  /** True when a terminal event stopped the solve. */
  terminated: boolean;
  /** Signed size of the last accepted step (0 if none). */
  lastStep: number;
  /** Signed step size the controller proposes next: keep it to warm-start a later solve. */
  nextStep: number;
  controllerState: ControllerState;
}

const minStepAt = (t: number): number => 10 * Math.max(Math.abs(t) * Number.EPSILON, Number.MIN_VALUE);

/**
 * Integrates from `ts[0]` through every output time with one solver and one controller. Steps are
 * not forced onto output times: outputs (and event locations) come from each accepted step's dense
 * output. Only the last time is a hard stop (plus every output time for a constant-step controller
 * without a step size).
 */
export function integrate<A>(cfg: IntegrateConfig<A>): IntegrateResult<A> {
  const { ops, solver, controller, ts } = cfg;
  const stats = emptyStats(solver.errorOrder !== undefined);
  // Each evaluation runs in its own memory scope: temporaries of the field are released at once.
  const rhs: Rhs<A> = (t, y) => {
    stats.nfe++;
    return ops.scope(() => cfg.rhs(t, y));
  };
  const y0 = cfg.y0;
  const ys: A[] = [ops.clone(y0)];
  const out: IntegrateResult<A> = {
    ts: [ts[0]],
    ys,
    stats,
    events: [],
    terminated: false,
    lastStep: 0,
    nextStep: 0,
    controllerState: cfg.controllerState ?? controller.init(),
  };
  if (ts.length === 1) return out;

  const tEnd = ts[ts.length - 1];
  const dir = Math.sign(tEnd - ts[0]);
  const stopAtOutputs = !controller.adaptive && controller.stepSize === undefined;
  const gridStep = !controller.adaptive && cfg.firstStep === undefined ? controller.stepSize : undefined;
  const errorOrder = solver.errorOrder;
  if (controller.adaptive && errorOrder === undefined)
    throw new OdeError(
      'bad_arguments',
      `Method '${solver.name}' has no embedded error estimate and cannot adapt its step: pass \`stepSize\` or use an adaptive method (bosh3, dopri5, tsit5).`,
    );
  if (!ops.allFinite(y0))
    throw new OdeError('non_finite_state', `The initial state at t=${ts[0]} is not finite.`, { t: ts[0], step: 0 });

  let t = ts[0];
  let y = y0;
  let f0: A | null = rhs(t, y);
  if (!ops.allFinite(f0))
    throw new OdeError('non_finite_state', `The vector field is not finite at the initial state (t=${t}, step 0).`, {
      t,
      step: 0,
    });

  let hAbs: number;
  if (cfg.firstStep !== undefined) hAbs = Math.abs(cfg.firstStep);
  else if (controller.adaptive)
    hAbs = initialStepSize(ops, rhs, t, y, f0, dir, errorOrder as number, Math.abs(tEnd - t), cfg.maxStep);
  else hAbs = controller.stepSize ?? Infinity;
  let state = out.controllerState;

  const events = cfg.events ?? [];
  let g0 = events.map((ev) => ops.scope(() => ev.fn(t, y)));
  let outIdx = 1;
  let lastRejectNonFinite = false;

  const release = (r: StepResult<A>, keepFirst: boolean, keep: A | null) => {
    ops.dispose(r.yErr);
    r.stages.forEach((k, j) => {
      if ((j === 0 && keepFirst) || k === keep) return;
      ops.dispose(k);
    });
  };

  while (dir * (tEnd - t) > 0) {
    if (stats.steps >= cfg.maxSteps)
      throw new OdeError(
        'too_many_steps',
        `The maximum number of solver steps (${cfg.maxSteps}) was reached at t=${t} before t=${tEnd}. Try increasing \`maxSteps\`, loosening rtol/atol, or a stiff solver if the problem is stiff.`,
        { t, h: dir * hAbs, step: stats.steps },
      );
    if (f0 === null) f0 = rhs(t, y);
    const stop = stopAtOutputs ? ts[outIdx] : tEnd;
    hAbs = Math.min(hAbs, cfg.maxStep);
    if (!(hAbs >= minStepAt(t))) {
      if (lastRejectNonFinite)
        throw new OdeError(
          'non_finite_state',
          `The solution became non-finite (NaN or ±Infinity) after t=${t} at step ${stats.steps}, even with step size ${dir * hAbs}. Check the vector field for a singularity or overflow near this time.`,
          { t, h: dir * hAbs, step: stats.steps },
        );
      throw new OdeError(
        'step_size_underflow',
        `Step size underflow at t=${t}: the controller asked for h=${dir * hAbs}, below the resolution of t. The solution may blow up or have a singularity here, or the problem is stiff; try looser rtol/atol or a stiff solver.`,
        { t, h: dir * hAbs, step: stats.steps },
      );
    }
    // Constant steps sit on the grid t0 + k·stepSize (no accumulated round-off); adaptive steps go by hAbs.
    let tNew = gridStep !== undefined ? ts[0] + dir * gridStep * (stats.accepted + 1) : t + dir * hAbs;
    if (dir * (tNew - stop) > -1e-9 * hAbs) tNew = stop; // clip to the stop; never leave a sliver
    const h = tNew - t;
    hAbs = Math.abs(h);
    const yCur = y;
    const fCur: A = f0;
    const attempt = ops.scope(() => {
      const step = solver.step(ops, rhs, t, yCur, fCur, h);
      const err = step.yErr !== null ? ops.scaledNorm(step.yErr, yCur, step.y1) : NaN;
      return { step, err };
    });
    const { step, err } = attempt;
    stats.steps++;

    let decision;
    if (controller.adaptive) {
      decision = controller.adapt(state, err, hAbs, errorOrder as number);
      if (!decision.accept) {
        stats.rejected++;
        lastRejectNonFinite = !Number.isFinite(err);
        ops.dispose(step.y1);
        release(step, true, null);
        hAbs = decision.hNext;
        state = decision.state;
        continue;
      }
    } else {
      if (!ops.allFinite(step.y1))
        throw new OdeError(
          'non_finite_state',
          `The solution became non-finite (NaN or ±Infinity) in the step from t=${t} to t=${tNew} (step ${stats.steps}). Try a smaller \`stepSize\` or an adaptive method.`,
          { t, h, step: stats.steps },
        );
      decision = controller.adapt(state, err, hAbs, errorOrder ?? 0);
    }
    lastRejectNonFinite = false;
    stats.accepted++;
    if (Number.isFinite(err)) stats.errorEstimate = Math.max(stats.errorEstimate, err);

    // f(t1, y1): free for FSAL methods; otherwise the next step's first stage, computed now only
    // when needed (next step, or a Hermite interpolant below).
    let f1: A | null = step.f1;
    const outputsInStep = outIdx < ts.length && dir * (ts[outIdx] - tNew) < 0;
    const needF1 = () => {
      if (f1 === null) f1 = rhs(tNew, step.y1);
      return f1;
    };
    if (f1 === null && (tNew !== tEnd || outputsInStep || events.length > 0)) needF1();
    const interp = solver.interpolant(ops, t, h, y, step, needF1);

    // Events: sign changes of g between the ends of the step, located on the dense output.
    let tLimit = tNew;
    if (events.length > 0) {
      const g1 = events.map((ev) => ops.scope(() => ev.fn(tNew, step.y1)));
      const found: { index: number; t: number }[] = [];
      events.forEach((ev, i) => {
        if (!crosses(g0[i], g1[i], ev.direction ?? 0)) return;
        const g = (tq: number) => ops.scope(() => ev.fn(tq, interp.evaluate(tq)));
        const xtol = 1e-14 * Math.max(1, Math.abs(t), Math.abs(tNew));
        found.push({ index: i, t: brentRoot(g, t, tNew, g0[i], g1[i], xtol) });
      });
      found.sort((p, q) => dir * (p.t - q.t));
      for (const ev of found) {
        out.events.push({
          index: ev.index,
          t: ev.t,
          y: ev.t === tNew ? ops.clone(step.y1) : ops.scope(() => interp.evaluate(ev.t)),
        });
        if (events[ev.index].terminal) {
          out.terminated = true;
          tLimit = ev.t;
          break;
        }
      }
      g0 = g1;
    }

    while (outIdx < ts.length && dir * (ts[outIdx] - tLimit) <= 0) {
      const tk = ts[outIdx];
      ys.push(tk === tNew ? ops.clone(step.y1) : ops.scope(() => interp.evaluate(tk)));
      out.ts.push(tk);
      outIdx++;
    }

    if (y !== y0) ops.dispose(y);
    release(step, false, f1);
    t = tNew;
    y = step.y1;
    f0 = f1;
    out.lastStep = h;
    hAbs = decision.hNext;
    state = decision.state;
    if (out.terminated) break;
  }
  if (y !== y0) ops.dispose(y);
  ops.dispose(f0);
  out.nextStep = dir * Math.min(hAbs, cfg.maxStep);
  out.controllerState = state;
  return out;
}
