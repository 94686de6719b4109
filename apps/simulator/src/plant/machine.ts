import { odeint, type MethodName } from '@continuum/ode';
import type { MachineModel, MachineParams, Regime, SensorDef } from '../models';
import type { Rng } from '../random/rng';
import { defaultMagnitude, FaultApplier, randomFaults, type Fault, type FaultPlan } from './faults';
import type { GroundTruthRecord } from './ground-truth';

/** Noisy sensor readings taken together (simulated seconds since the start). */
export interface Sample {
  machineId: string;
  t: number;
  values: Record<string, number>;
}

/** What a machine did while advancing: its readings and ground-truth events. */
export interface MachineStep {
  samples: Sample[];
  truth: GroundTruthRecord[];
  /** Set when the machine failed (DDEATH) or came back from repair (DBIRTH) at that time. */
  died?: number;
  reborn?: number;
}

/** Operating behaviour shared by the machines of a plant. */
export interface MachineBehaviour {
  /** Mean time between load changes (s). */
  meanRegimeDuration: number;
  /** Probability that a regime change stops the machine, and the mean stop duration (s). */
  stopProbability: number;
  meanStopDuration: number;
  /** Time from a failure to the repaired machine running again (s); Infinity: never. */
  repairTime: number;
  /** Burst of readings: how often (per s), how long (s), rate multiplier. */
  burstRate: number;
  meanBurstDuration: number;
  burstFactor: number;
  /** Multiplies every sensor's reading rate (tests and benchmarks thin or thicken the streams). */
  sampleRateScale: number;
  /** ODE method, tolerances. */
  method: MethodName;
  rtol: number;
}

export const DEFAULT_BEHAVIOUR: MachineBehaviour = {
  meanRegimeDuration: 6 * 3600,
  stopProbability: 0.15,
  meanStopDuration: 3600,
  repairTime: 24 * 3600,
  burstRate: 1 / (8 * 3600),
  meanBurstDuration: 120,
  burstFactor: 5,
  sampleRateScale: 1,
  method: 'dopri5',
  rtol: 1e-5,
};

const LOAD_LEVELS = [0.6, 0.75, 0.9, 1.0];

/**
 * One simulated machine: a physical model integrated with `@continuum/ode` between regime
 * changes, its hidden wear growing until failure (then down for the repair time and renewed
 * with fresh wear), per-sensor Poisson readings (with bursts) carrying Gaussian noise and the
 * injected sensor faults. Deterministic given its Rng.
 */
export class SimulatedMachine {
  params: MachineParams;
  regime: Regime = { running: true, load: 1 };
  state: Float64Array;
  t = 0;
  /** Time of the current failure, while the machine is down. */
  failedAt: number | null = null;
  failures = 0;
  private repairAt = Infinity;
  private nextRegimeChange: number;
  private readonly nextArrival: number[];
  private burstEnd = -Infinity;
  private nextBurst: number;
  private readonly faults: Fault[] = [];
  private readonly faultApplier: FaultApplier;
  private readonly rngs: { params: Rng; regime: Rng; arrivals: Rng; noise: Rng; faults: Rng };
  private lastStep = 0;
  /** Faults already reported as ground truth (they are reported when they begin). */
  private faultsAnnounced = 0;
  private pendingTruth: GroundTruthRecord[] = [];

  constructor(
    readonly machineId: string,
    readonly model: MachineModel,
    rng: Rng,
    readonly behaviour: MachineBehaviour = DEFAULT_BEHAVIOUR,
    options: { faultPlan?: FaultPlan; horizon?: number; regime?: Regime; fixedRegime?: boolean } = {},
  ) {
    this.rngs = {
      params: rng.fork('params'),
      regime: rng.fork('regime'),
      arrivals: rng.fork('arrivals'),
      noise: rng.fork('noise'),
      faults: rng.fork('faults'),
    };
    this.faultApplier = new FaultApplier(rng.fork('fault-values'));
    this.params = model.sampleParams(this.rngs.params);
    if (options.regime) this.regime = { ...options.regime };
    else this.regime = { running: true, load: this.rngs.regime.pick(LOAD_LEVELS) };
    this.state = model.initialState(this.params, this.regime, this.params.wear.initial);
    this.nextRegimeChange = options.fixedRegime
      ? Infinity
      : this.rngs.regime.exponential(1 / behaviour.meanRegimeDuration);
    this.nextArrival = model.sensors.map((s) => this.nextArrivalAfter(0, s));
    this.nextBurst = this.rngs.arrivals.exponential(behaviour.burstRate);
    this.pendingTruth.push(this.describe('machine', 0));
    this.pendingTruth.push({ type: 'regime', machineId, t: 0, ...this.regime });
    const plan = options.faultPlan;
    if (plan) {
      for (const f of plan.scheduled) {
        if (f.machine !== machineId) continue;
        const sensor = model.sensors.find((s) => s.name === f.sensor);
        if (!sensor)
          throw new Error(
            `fault on ${machineId}: no sensor "${f.sensor}" (${model.sensors.map((s) => s.name).join(', ')})`,
          );
        this.faults.push({ ...f, magnitude: f.magnitude ?? defaultMagnitude(f.kind, sensor, this.rngs.faults) });
      }
      this.faults.push(
        ...randomFaults(machineId, model.sensors, plan, 0, options.horizon ?? 365 * 86400, this.rngs.faults),
      );
      this.faults.sort((a, b) => a.start - b.start);
    }
  }

  /** The hidden wear (failure at 1). */
  get wear(): number {
    return this.state[this.model.wearIndex];
  }

  get assetType(): string {
    return this.model.assetType;
  }

  get sensors(): readonly SensorDef[] {
    return this.model.sensors;
  }

  private describe(type: 'machine' | 'repair', t: number): GroundTruthRecord {
    return {
      type,
      machineId: this.machineId,
      t,
      assetType: this.model.assetType,
      wearLaw: this.params.wear.law,
      wearRate: this.params.wear.rate,
      initialWear: this.params.wear.initial,
      ambient: this.params.ambient,
    };
  }

  private nextArrivalAfter(t: number, sensor: SensorDef): number {
    // Thinning (Lewis & Shedler 1979): candidates at the burst rate, kept with probability rate/max.
    const base = (sensor.ratePerHour * this.behaviour.sampleRateScale) / 3600;
    const max = base * this.behaviour.burstFactor;
    let candidate = t;
    for (;;) {
      candidate += this.rngs.arrivals.exponential(max);
      if (this.inBurst(candidate) || this.rngs.arrivals.bernoulli(1 / this.behaviour.burstFactor)) return candidate;
    }
  }

  private inBurst(t: number): boolean {
    while (t >= this.nextBurst) {
      this.burstEnd = this.nextBurst + this.rngs.arrivals.exponential(1 / this.behaviour.meanBurstDuration);
      this.nextBurst = this.burstEnd + this.rngs.arrivals.exponential(this.behaviour.burstRate);
    }
    return t < this.burstEnd;
  }

  /** Drives the machine at a regime from now on (an operator's command); it keeps it until the next random change. */
  setRegime(regime: Regime, holdFor = Infinity): void {
    this.regime = { ...regime };
    this.nextRegimeChange = this.t + holdFor;
    this.pendingTruth.push({ type: 'regime', machineId: this.machineId, t: this.t, ...this.regime });
  }

  /** Advances the machine to `tEnd` (simulated seconds), returning the readings taken meanwhile. */
  advance(tEnd: number): MachineStep {
    const step: MachineStep = { samples: [], truth: this.pendingTruth };
    this.pendingTruth = [];
    while (this.t < tEnd) {
      if (this.failedAt !== null) {
        if (this.repairAt > tEnd) {
          this.skipArrivals(tEnd);
          this.t = tEnd;
          break;
        }
        this.skipArrivals(this.repairAt);
        this.t = this.repairAt;
        this.renew(step);
        continue;
      }
      const segEnd = Math.min(tEnd, this.nextRegimeChange);
      if (segEnd > this.t) this.integrate(segEnd, step);
      if (this.failedAt === null && this.t >= this.nextRegimeChange) this.changeRegime(step);
    }
    while (this.faultsAnnounced < this.faults.length && this.faults[this.faultsAnnounced].start < tEnd) {
      const f = this.faults[this.faultsAnnounced++];
      step.truth.push({ type: 'fault', ...f, t: f.start, machineId: this.machineId });
    }
    return step;
  }

  private skipArrivals(until: number): void {
    this.model.sensors.forEach((s, i) => {
      while (this.nextArrival[i] < until) this.nextArrival[i] = this.nextArrivalAfter(this.nextArrival[i], s);
    });
  }

  private integrate(segEnd: number, step: MachineStep): void {
    const arrivals: { t: number; sensor: number }[] = [];
    this.model.sensors.forEach((s, i) => {
      while (this.nextArrival[i] < segEnd) {
        arrivals.push({ t: this.nextArrival[i], sensor: i });
        this.nextArrival[i] = this.nextArrivalAfter(this.nextArrival[i], s);
      }
    });
    arrivals.sort((a, b) => a.t - b.t || a.sensor - b.sensor);
    const ts = [this.t];
    for (const a of arrivals) if (a.t > ts[ts.length - 1]) ts.push(a.t);
    if (segEnd > ts[ts.length - 1]) ts.push(segEnd);
    const wi = this.model.wearIndex;
    const solution = odeint(this.model.vectorField(this.params, this.regime), this.state, ts, {
      method: this.behaviour.method,
      rtol: this.behaviour.rtol,
      atol: this.model.atol as number[],
      maxSteps: 1_000_000,
      firstStep: this.lastStep > 0 ? this.lastStep : undefined,
      events: [{ fn: (_t, y) => y[wi] - 1, direction: 1, terminal: true }],
    });
    if (Math.abs(solution.nextStep) > 0) this.lastStep = Math.abs(solution.nextStep);
    const failAt = solution.terminated ? solution.events[0].t : Infinity;
    let k = 0;
    for (const a of arrivals) {
      if (a.t > failAt) break;
      while (k < solution.ts.length - 1 && solution.ts[k] < a.t) k++;
      const y = solution.ys[k];
      if (solution.ts[k] !== a.t) continue;
      const sensor = this.model.sensors[a.sensor];
      const clean = this.model.observe(this.params, this.regime, y)[sensor.name];
      const noisy = clean + this.rngs.noise.normal(0, sensor.noiseStd);
      const value = this.faultApplier.apply(this.faults, sensor.name, a.t, noisy);
      if (value === undefined || !Number.isFinite(value)) continue;
      step.samples.push({ machineId: this.machineId, t: a.t, values: { [sensor.name]: value } });
    }
    if (solution.terminated) {
      const event = solution.events[0];
      this.state = Float64Array.from(event.y);
      this.t = event.t;
      this.failedAt = event.t;
      this.failures++;
      this.repairAt = event.t + this.behaviour.repairTime;
      const values = this.model.observe(this.params, this.regime, this.state);
      step.truth.push({ type: 'failure', machineId: this.machineId, t: event.t, wear: this.state[wi], values });
      step.died = event.t;
    } else {
      this.state = Float64Array.from(solution.ys[solution.ys.length - 1]);
      this.t = segEnd;
    }
  }

  private changeRegime(step: MachineStep): void {
    const r = this.rngs.regime;
    if (this.regime.running && r.bernoulli(this.behaviour.stopProbability)) {
      this.regime = { running: false, load: 0 };
      this.nextRegimeChange = this.t + r.exponential(1 / this.behaviour.meanStopDuration);
    } else {
      this.regime = { running: true, load: r.pick(LOAD_LEVELS) };
      this.nextRegimeChange = this.t + r.exponential(1 / this.behaviour.meanRegimeDuration);
    }
    step.truth.push({ type: 'regime', machineId: this.machineId, t: this.t, ...this.regime });
  }

  private renew(step: MachineStep): void {
    this.params = this.model.sampleParams(this.rngs.params);
    this.failedAt = null;
    this.repairAt = Infinity;
    this.regime = { running: true, load: this.rngs.regime.pick(LOAD_LEVELS) };
    this.state = this.model.initialState(this.params, this.regime, this.params.wear.initial);
    this.lastStep = 0;
    this.nextRegimeChange = this.t + this.rngs.regime.exponential(1 / this.behaviour.meanRegimeDuration);
    step.truth.push(this.describe('repair', this.t));
    step.reborn = this.t;
  }
}
