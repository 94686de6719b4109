import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeint, odeintAdjoint, type AdjointStats, type SolverStats } from '@continuum/ode';
import { ElectricMotorModel, type MotorParams } from '../../../simulator/src/models/electric-motor.model';
import type { Regime } from '../../../simulator/src/models/model';
import { Rng } from '../../../simulator/src/random/rng';

/**
 * Stiff training (issue 10): fitting the physical parameters of the simulator's full electric-motor
 * model — the stiff one, with a 20 ms electrical and ~40 ms mechanical transient, 20 min and 70 min
 * thermal time constants and weeks of wear — from its sensor readings, with gradients from the
 * implicit adjoint of `@continuum/ode` (`odeintAdjoint`, radau5 forward and radau5 backward).
 *
 * The data: `ElectricMotorModel('full')` of apps/simulator with the parameters of one simulated
 * motor (`sampleParams`, seeded), solved in float64 by radau5 at tight tolerances, in several
 * experiments: the motor runs cold at 30 % load and at t = 0 its load steps to another value; current,
 * speed, winding and frame temperatures are read (with the simulator's sensor noise) at irregular,
 * log-spaced times from 10 ms (a commissioning logger sees the start transient) to two hours (the
 * plant's sensors see the heat-up).
 *
 * The model: the same equations written with TensorFlow.js, the state [i, ω, Tw, Tf, w] of every
 * experiment in one batch; three parameters unknown and fitted in log space: the torque constant K
 * (it couples current and speed: the fast, stiff electromechanical pair, and their steady values)
 * and the thermal resistances winding→frame and frame→ambient (the slow part). The others are the
 * motor's known rating. (The inductance and inertia, which show only in the first 0.1 s, were tried
 * as well: with readings as sparse as these they are weakly determined and the fit took far longer.)
 *
 * Why implicit: the electromechanical eigenvalues are about −25 ± 30i s⁻¹ while the horizon is 7,200
 * s, so an explicit method is held to steps of ~0.1 s by stability alone. {@link compareNfe} counts
 * dopri5's and radau5's evaluations on the same problem and tolerances. An explicit adjoint is no
 * way out either: re-integrating this contracting system backwards in time is unstable, which is why
 * the implicit adjoint recomputes the state forwards per output interval.
 */

/** Names of the fitted parameters, in the order of the parameter vector. */
export const FITTED = ['torqueConstant', 'windingToFrame', 'frameToAmbient'] as const;
export type FittedName = (typeof FITTED)[number];

/** Sensors read, as the simulator names them, and the state they observe. */
export const OBSERVED = ['current', 'speed', 'winding_temperature', 'frame_temperature'] as const;

const RPM_PER_RAD_S = 60 / (2 * Math.PI);
const AGEING_PER_KELVIN = Math.LN2 / 10;

/** Options of {@link motorExperiment}. */
export interface MotorExperimentOptions {
  /** Seed of the simulated motor's parameters and of the sensor noise. */
  seed?: number;
  /** Load each experiment steps to at t = 0 (one batch sample each). */
  loads?: readonly number[];
  /** Load before the step. */
  initialLoad?: number;
  /** Horizon (s). */
  horizonS?: number;
  /** Number of observation times, log-spaced from 10 ms to the horizon with jitter. */
  observations?: number;
  /** Multiply the simulator's sensor noise by this (0: noise-free readings). */
  noise?: number;
}

/** The data and ground truth of the example. */
export interface MotorExperiment {
  /** The simulated motor's parameters (ground truth). */
  truth: MotorParams;
  loads: number[];
  /** Initial state of each experiment, [B][5]: quasi-steady current and speed at the initial load, ambient temperatures. */
  y0: number[][];
  /** Observation times (s), ascending, the first one 0 (the initial state). */
  ts: number[];
  /** Readings: observed[k][b][s] at ts[k] of sensor OBSERVED[s] (speed in rpm). */
  observed: number[][][];
  /** The noise-free values at ts (the float64 reference solve). */
  clean: number[][][];
  /** Sensor scales the loss divides residuals by (the simulator's noise std of each sensor). */
  noiseStd: number[];
  /** Work of the float64 radau5 reference solves. */
  referenceStats: SolverStats;
}

/**
 * Simulates the experiments with apps/simulator's full (stiff) motor model.
 *
 * @returns the noisy readings, the clean values and the true parameters
 */
export function motorExperiment(options: MotorExperimentOptions = {}): MotorExperiment {
  const seed = options.seed ?? 7;
  const loads = [...(options.loads ?? [0.6, 1.0])];
  const initialLoad = options.initialLoad ?? 0.3;
  const horizon = options.horizonS ?? 7200;
  const n = options.observations ?? 12;
  const noise = options.noise ?? 1;
  const model = new ElectricMotorModel('full');
  const rng = new Rng(seed);
  const truth = model.sampleParams(rng.fork('params'));
  const noiseRng = rng.fork('noise');
  const sensors = OBSERVED.map((name) => model.sensors.find((s) => s.name === name)!);
  const noiseStd = sensors.map((s) => s.noiseStd);

  // Irregular, log-spaced times in [10 ms, horizon] (jittered in log space, sorted, distinct).
  const tRng = rng.fork('times');
  const lo = Math.log(0.01);
  const hi = Math.log(horizon);
  const ts = [0];
  for (let k = 0; k < n; k++) {
    const u = k === n - 1 ? 1 : (k + 0.25 + 0.5 * tRng.next()) / n;
    ts.push(Math.exp(lo + (hi - lo) * u));
  }

  const y0: number[][] = [];
  const clean: number[][][] = ts.map(() => []);
  const stats: SolverStats = { nfe: 0, steps: 0, accepted: 0, rejected: 0, njev: 0, nlu: 0, errorEstimate: 0 };
  for (const load of loads) {
    const before: Regime = { running: true, load: initialLoad };
    const { current, speed } = model.electromechanical(truth, before, truth.wear.initial);
    const start = [current, speed, truth.ambient, truth.ambient, truth.wear.initial];
    y0.push(start);
    const f = model.vectorField(truth, { running: true, load });
    const sol = odeint(f, start, ts, { method: 'radau5', rtol: 1e-10, atol: [1e-8, 1e-8, 1e-8, 1e-8, 1e-12] });
    for (const key of ['nfe', 'steps', 'accepted', 'rejected', 'njev', 'nlu'] as const) stats[key] += sol.stats[key];
    sol.ys.forEach((y, k) => {
      const obs = model.observe(truth, { running: true, load }, y);
      clean[k].push(OBSERVED.map((s) => obs[s]));
    });
  }
  const observed = clean.map((row, k) =>
    row.map((values) => values.map((v, s) => (k === 0 ? v : v + noise * noiseStd[s] * noiseRng.normal()))),
  );
  return { truth, loads, y0, ts, observed, clean, noiseStd, referenceStats: stats };
}

/** Log of the fitted parameters of `p`, in {@link FITTED} order. */
export const logParams = (p: MotorParams): number[] => FITTED.map((k) => Math.log(p[k]));

/**
 * The motor's vector field on a batch of experiments, f(t, y [B, 5]) → [B, 5], reading the fitted
 * parameters from `theta` (a tensor of their logs, {@link FITTED} order) and the rest from `known`. The same equations as `ElectricMotorModel('full').vectorField` while the motor runs
 * (ω > 0 throughout these experiments).
 */
export function motorField(theta: tf.Tensor1D, known: MotorParams, loads: readonly number[]) {
  const loadTorque = tf.tensor1d(loads.map((l) => known.ratedTorque * Math.max(l, 0)));
  const f = (_t: tf.Tensor, y: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const [K, Rwf, Rfa] = tf.unstack(tf.exp(theta));
      const L = known.inductance;
      const J = known.inertia;
      const [i, w, tw, tfr, wear] = tf.unstack(y, 1);
      const di = tf.div(tf.sub(tf.sub(known.voltage, tf.mul(known.resistance, i)), tf.mul(K, w)), L);
      const drag = tf.add(tf.add(tf.mul(known.friction, w), loadTorque), tf.mul(known.wearFrictionTorque, wear));
      const dw = tf.div(tf.sub(tf.mul(K, i), drag), J);
      const heat = tf.add(tf.mul(tf.square(i), known.resistance), known.coreLoss);
      const flow = tf.div(tf.sub(tw, tfr), Rwf);
      const dtw = tf.div(tf.sub(heat, flow), known.windingCapacity);
      const dtf = tf.div(tf.sub(flow, tf.div(tf.sub(tfr, known.ambient), Rfa)), known.frameCapacity);
      const ageing = tf.exp(tf.mul(AGEING_PER_KELVIN, tf.sub(tw, known.nominalWindingTemp)));
      const dwear = tf.mul(tf.mul(known.wear.rate, ageing), tf.relu(wear));
      return tf.stack([di, dw, dtw, dtf, dwear], 1);
    });
  return { f, dispose: () => loadTorque.dispose() };
}

/** Solver settings of the fit (float32-sized tolerances; see libs/ode/src/adjoint/implicit.spec.ts). */
export interface FitSolver {
  method: 'radau5' | 'kvaerno5';
  rtol: number;
  atol: number[];
  /** Tolerances of the backward (adjoint) solve; default the forward ones. */
  adjointRtol?: number;
  adjointAtol?: number | number[];
}

/**
 * The fit's solver: radau5 at rtol 1e-4 forward (float32 evaluations: tighter tolerances hit their
 * round-off, see libs/ode/src/adjoint/implicit.spec.ts) and 1e-3 backward; the adjoint's absolute
 * tolerance 1e-5 is about 1e-3 of its size near the optimum (checked against central differences of
 * the loss: the gradient matches to 3 digits).
 */
export const DEFAULT_FIT_SOLVER: FitSolver = {
  method: 'radau5',
  rtol: 1e-4,
  atol: [1e-3, 1e-3, 1e-3, 1e-3, 1e-7],
  adjointRtol: 1e-3,
  adjointAtol: 1e-4,
};

/** One iteration of {@link fitMotor}: the accepted point and the work it took. */
export interface FitIteration {
  iteration: number;
  /** Loss at the accepted point (mean squared residual in noise standard deviations; 1 is the noise floor). */
  loss: number;
  /** Relative error of each fitted parameter (exp(θ) / truth − 1), FITTED order. */
  paramError: number[];
  /** Gradients computed in this iteration (1, more when the line search backtracked). */
  gradients: number;
  /** NFE of the forward solves and of the adjoint (backward) solves of the iteration's gradients. */
  nfeForward: number;
  nfeBackward: number;
  /** Jacobian evaluations, forward and backward. */
  njevForward: number;
  njevBackward: number;
  ms: number;
}

/** Options of {@link fitMotor}. */
export interface FitOptions {
  /** Largest number of BFGS iterations (default 40). */
  iterations?: number;
  /** Stop when the loss improved by less than this fraction in an iteration (default 1e-4). */
  tolerance?: number;
  /** Start: truth × these factors (FITTED order). */
  initialFactors?: readonly number[];
  solver?: FitSolver;
  onIteration?: (it: FitIteration) => void;
}

/** Result of {@link fitMotor}. */
export interface FitResult {
  /** Iteration 0 is the starting point. */
  history: FitIteration[];
  /** Fitted parameters, FITTED order. */
  fitted: number[];
  /** Loss at the true parameters (the noise floor the fit can reach). */
  lossAtTruth: number;
  /**
   * Why it stopped: 'converged' (relative improvement, or the improvement the quadratic model
   * predicts, below the tolerance; or no decrease found along the search direction) or 'iterations'.
   */
  stopped: 'converged' | 'iterations';
}

/**
 * The loss: mean over times, experiments and sensors of the squared residual in units of the
 * sensor's noise standard deviation (so 1 is the noise floor).
 */
function lossOf(ys: tf.Tensor, obs: tf.Tensor, invStd: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const [i, w, tw, tfr] = tf.unstack(tf.slice(ys, [1, 0, 0], [-1, -1, 4]), 2);
    const pred = tf.stack([i, tf.mul(w, RPM_PER_RAD_S), tw, tfr], 2);
    return tf.mean(tf.square(tf.mul(tf.sub(pred, obs), invStd)));
  });
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * Fits the log-parameters by BFGS with a backtracking (Armijo) line search (Nocedal & Wright,
 * "Numerical Optimization", 2006, Algorithm 6.1), every loss and gradient from `odeintAdjoint` with
 * the implicit method forward and as `adjointMethod` backward (the implicit adjoint).
 *
 * BFGS rather than Adam: this is a few-parameter least-squares problem whose curvature differs by
 * orders of magnitude between directions (the torque constant sets the steady current and speed, the
 * thermal resistances only the slow temperatures). Adam (lr 0.05) measured on it (with the inductance
 * and inertia fitted too) oscillated in K and drifted the inductance to +180 % of the truth in 24
 * iterations: its step normalisation remembers the large early gradients. BFGS, started from a
 * diagonal inverse Hessian, learns the curvature: about 10 gradients here.
 */
export function fitMotor(data: MotorExperiment, options: FitOptions = {}): FitResult {
  const iterations = options.iterations ?? 40;
  const tolerance = options.tolerance ?? 1e-4;
  const solver = options.solver ?? DEFAULT_FIT_SOLVER;
  const factors = options.initialFactors ?? [1.15, 0.6, 1.5];
  const truthLog = logParams(data.truth);
  const n = truthLog.length;
  const start = tf.tensor1d(truthLog.map((v, k) => v + Math.log(factors[k])));
  const theta = tf.variable(start);
  start.dispose();
  const field = motorField(theta, data.truth, data.loads);
  const y0 = tf.tensor2d(data.y0);
  const obs = tf.tensor3d(data.observed.slice(1));
  const invStd = tf.tensor1d(data.noiseStd.map((s) => 1 / s));
  const work = { gradients: 0, nfeForward: 0, nfeBackward: 0, njevForward: 0, njevBackward: 0 };
  /** Loss and gradient at x (log-parameters), adding the work to `work`. */
  const evaluate = (x: number[]): { f: number; g: number[] } => {
    const value0 = tf.tensor1d(x);
    theta.assign(value0);
    value0.dispose();
    let stats: AdjointStats | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const r = odeintAdjoint(field.f, y0, data.ts, [theta], {
        method: solver.method,
        adjointMethod: solver.method,
        rtol: solver.rtol,
        atol: solver.atol,
        adjointRtol: solver.adjointRtol,
        adjointAtol: solver.adjointAtol,
        adjointNorm: 'seminorm',
        maxSteps: 20_000,
      });
      stats = r.stats;
      return lossOf(r.ys, obs, invStd);
    }, [theta]);
    const f = value.dataSync()[0];
    const g = Array.from(grads[theta.name].dataSync());
    value.dispose();
    Object.values(grads).forEach((t) => t.dispose());
    const st = stats!;
    work.gradients++;
    work.nfeForward += st.forward.nfe;
    work.nfeBackward += st.backward.nfe;
    work.njevForward += st.forward.njev;
    work.njevBackward += st.backward.njev;
    return { f, g };
  };
  const history: FitIteration[] = [];
  let t0 = performance.now();
  const record = (x: number[], f: number) => {
    const entry: FitIteration = {
      iteration: history.length,
      loss: f,
      paramError: truthLog.map((v, k) => Math.exp(x[k] - v) - 1),
      ...work,
      ms: performance.now() - t0,
    };
    history.push(entry);
    options.onIteration?.(entry);
    Object.keys(work).forEach((k) => (work[k as keyof typeof work] = 0));
    t0 = performance.now();
  };
  try {
    let x = Array.from(theta.dataSync());
    let { f, g } = evaluate(x);
    record(x, f);
    // Inverse Hessian approximation, diagonal at first: a first step of 0.1 in every log-parameter
    // (the gradient's components differ by orders of magnitude; a scaled identity would move only K).
    const diagonal = (gr: number[]) =>
      Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => (i === j ? 0.1 / Math.max(Math.abs(gr[i]), 1e-12) : 0)),
      );
    let H = diagonal(g);
    let stopped: FitResult['stopped'] = 'iterations';
    for (let it = 1; it <= iterations; it++) {
      let p = H.map((row) => -dot(row, g));
      if (dot(p, g) >= 0) {
        // Not a descent direction (curvature lost to noise): restart from steepest descent.
        H = diagonal(g);
        p = H.map((row) => -dot(row, g));
      }
      // At most a factor e^0.5 per parameter per step: the first steps' scale is unknown.
      const longest = Math.max(...p.map(Math.abs));
      if (longest > 0.5) p = p.map((v) => (v * 0.5) / longest);
      // The decrease the quadratic model promises is below the tolerance: at the floor the solvers'
      // error leaves (the gradient is accurate to ~1e-3), nothing more to gain.
      if (-dot(g, p) < tolerance * Math.abs(f)) {
        stopped = 'converged';
        break;
      }
      let alpha = 1;
      let next = evaluate(x.map((v, k) => v + alpha * p[k]));
      for (let halvings = 0; next.f > f + 1e-4 * alpha * dot(g, p) && halvings < 4; halvings++) {
        alpha *= 0.5;
        next = evaluate(x.map((v, k) => v + alpha * p[k]));
      }
      if (next.f > f + 1e-4 * alpha * dot(g, p)) {
        // No sufficient decrease along a descent direction within 1/16 of the step: the loss is flat
        // to the solvers' accuracy here. Keep the current point.
        record(x, f);
        stopped = 'converged';
        break;
      }
      const xNew = x.map((v, k) => v + alpha * p[k]);
      const s = xNew.map((v, k) => v - x[k]);
      const y = next.g.map((v, k) => v - g[k]);
      const sy = dot(s, y);
      if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
        const rho = 1 / sy;
        const Hy = H.map((row) => dot(row, y));
        const yHy = dot(y, Hy);
        H = H.map((row, i) =>
          row.map((v, j) => v - rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j]),
        );
      }
      const improvement = (f - next.f) / Math.max(Math.abs(f), 1e-30);
      x = xNew;
      ({ f, g } = next);
      record(x, f);
      if (improvement >= 0 && improvement < tolerance) {
        stopped = 'converged';
        break;
      }
    }
    const fitted = x.map(Math.exp);
    const lossAtTruth = evaluate(truthLog).f;
    return { history, fitted, lossAtTruth, stopped };
  } finally {
    [theta, y0, obs, invStd].forEach((t) => t.dispose());
    field.dispose();
  }
}

/** NFE of one method on the example's forward problem (float64, every experiment). */
export interface NfeCount {
  method: string;
  nfe: number;
  njev: number;
  steps: number;
  /** Largest error against the tight reference at the observation times, in noise standard deviations. */
  maxErrorInStd: number;
}

/**
 * Counts the evaluations dopri5 and the implicit method need for the example's forward problem at
 * the fit's tolerances (float64, each experiment solved on its own, the true parameters), and
 * checks each against the tight reference: the same problem, the same accuracy asked.
 */
export function compareNfe(data: MotorExperiment, solver: FitSolver = DEFAULT_FIT_SOLVER): NfeCount[] {
  const model = new ElectricMotorModel('full');
  return (['dopri5', solver.method] as const).map((method) => {
    const c: NfeCount = { method, nfe: 0, njev: 0, steps: 0, maxErrorInStd: 0 };
    data.loads.forEach((load, b) => {
      const regime = { running: true, load };
      const sol = odeint(model.vectorField(data.truth, regime), data.y0[b], data.ts, {
        method,
        rtol: solver.rtol,
        atol: solver.atol,
        maxSteps: 10_000_000,
      });
      c.nfe += sol.stats.nfe;
      c.njev += sol.stats.njev;
      c.steps += sol.stats.steps;
      sol.ys.forEach((y, k) => {
        const obs = model.observe(data.truth, regime, y);
        OBSERVED.forEach((s, j) => {
          const err = Math.abs(obs[s] - data.clean[k][b][j]) / data.noiseStd[j];
          c.maxErrorInStd = Math.max(c.maxErrorInStd, err);
        });
      });
    });
    return c;
  });
}

/** `npm run example:stiff-training [-- --iterations N]`: runs the fit and prints its progress and the NFE comparison. */
async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'cpu', log: () => undefined });
  const data = motorExperiment({ seed: Number(arg('seed') ?? 7) });
  const t = data.truth;
  console.log(
    `motor (apps/simulator ElectricMotorModel 'full', seed ${arg('seed') ?? 7}): loads ${data.loads.join(', ')} from 0.3, ` +
      `${data.ts.length - 1} readings of ${OBSERVED.length} sensors each, ${data.ts[1].toFixed(3)} s to ${data.ts.at(-1)!.toFixed(0)} s`,
  );
  console.log(`truth: ${FITTED.map((k) => `${k} ${t[k]}`).join(', ')}`);
  const [dopri, implicit] = compareNfe(data);
  console.log(
    `forward problem at rtol ${DEFAULT_FIT_SOLVER.rtol}: dopri5 nfe ${dopri.nfe} (${dopri.steps} steps, max error ${dopri.maxErrorInStd.toFixed(3)} std), ` +
      `${implicit.method} nfe ${implicit.nfe} + ${implicit.njev} Jacobians (${implicit.steps} steps, max error ${implicit.maxErrorInStd.toFixed(3)} std): ` +
      `ratio ${(dopri.nfe / implicit.nfe).toFixed(0)}x (${(dopri.nfe / (implicit.nfe + 5 * implicit.njev)).toFixed(0)}x counting a Jacobian as 5 evaluations)`,
  );
  const started = performance.now();
  const fit = fitMotor(data, {
    iterations: Number(arg('iterations') ?? 40),
    onIteration: (it) =>
      console.log(
        `${String(it.iteration).padStart(3)} loss ${it.loss.toExponential(3)} ` +
          `errors ${it.paramError.map((e) => `${(100 * e).toFixed(1)}%`).join(' ')} ` +
          `gradients ${it.gradients} nfe fwd ${it.nfeForward} bwd ${it.nfeBackward} (jac ${it.njevForward}/${it.njevBackward}) ${it.ms.toFixed(0)} ms`,
      ),
  });
  const first = fit.history[0];
  const last = fit.history.at(-1)!;
  const total = fit.history.reduce(
    (acc, it) => ({ g: acc.g + it.gradients, f: acc.f + it.nfeForward, b: acc.b + it.nfeBackward }),
    { g: 0, f: 0, b: 0 },
  );
  const perGradient = (total.f + total.b) / total.g;
  console.log(
    `fit (${fit.stopped}, ${fit.history.length - 1} iterations, ${total.g} gradients): loss ${first.loss.toExponential(3)} -> ` +
      `${last.loss.toExponential(3)} (${(first.loss / last.loss).toFixed(0)}x; ${fit.lossAtTruth.toExponential(3)} at the truth), ` +
      `parameter errors ${last.paramError.map((e) => `${(100 * e).toFixed(2)}%`).join(' ')}, ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(
    `NFE per gradient with ${implicit.method}: ${perGradient.toFixed(0)} (forward ${(total.f / total.g).toFixed(0)}, ` +
      `backward ${(total.b / total.g).toFixed(0)}); dopri5's forward solve alone: ${dopri.nfe} (${(dopri.nfe / perGradient).toFixed(0)}x)`,
  );
}

if (require.main === module)
  main().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
