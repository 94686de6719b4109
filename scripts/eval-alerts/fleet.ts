/**
 * The evaluation fleet of `npm run eval:alerts`: apps/simulator's machines (physics, regimes, stops,
 * bursts of readings, noise: `SimulatedMachine` with the plant's default behaviour), of which some are
 * given an accelerated wear rate so that they fail within the run. Failure times come from the
 * simulator's ground truth (the hidden wear reaching 1); the onset of a failing machine is the first
 * time its degradation is visible in noiseless data (see {@link wearEffect}).
 */
import {
  plantModels,
  timeToFailureFactor,
  type MachineModel,
  type MachineParams,
  type Regime,
  type WearParams,
} from '../../apps/simulator/src/models';
import { DEFAULT_BEHAVIOUR, SimulatedMachine, type Sample } from '../../apps/simulator/src/plant/machine';
import { Rng } from '../../apps/simulator/src/random/rng';

const DAY_S = 86_400;

/**
 * Mean wear stress of each asset type under the plant's default regimes (loads 0.6/0.75/0.9/1.0
 * equally likely, ~3% of the time stopped), relative to rated load; from the models' wear laws:
 * pump s³ → 0.57; motor 2^((Tw − Tw,rated)/10 K), winding 29/20/9/0 K below rated → 0.49; compressor
 * 0.3 + 0.7 c → 0.87. Used only to aim a failing machine's life at a target; the real failure time is
 * whatever the simulation gives.
 */
const MEAN_STRESS: Record<string, number> = {
  'centrifugal-pump': 0.57,
  'electric-motor': 0.49,
  'air-compressor': 0.87,
};

/** A simulator model whose wear parameters are replaced (everything else delegates: same physics). */
class WearOverride implements MachineModel {
  readonly assetType: string;
  readonly sensors: MachineModel['sensors'];
  readonly stateNames: MachineModel['stateNames'];
  readonly wearIndex: number;
  readonly wearDistribution: MachineModel['wearDistribution'];
  readonly stiff: boolean;
  readonly atol: MachineModel['atol'];

  constructor(
    private readonly inner: MachineModel,
    private readonly wear: (drawn: WearParams) => WearParams,
  ) {
    this.assetType = inner.assetType;
    this.sensors = inner.sensors;
    this.stateNames = inner.stateNames;
    this.wearIndex = inner.wearIndex;
    this.wearDistribution = inner.wearDistribution;
    this.stiff = inner.stiff;
    this.atol = inner.atol;
  }

  sampleParams(rng: Rng): MachineParams {
    const p = this.inner.sampleParams(rng);
    return { ...p, wear: this.wear(p.wear) };
  }

  initialState(p: MachineParams, regime: Regime, wear: number): Float64Array {
    return this.inner.initialState(p, regime, wear);
  }

  vectorField(p: MachineParams, regime: Regime): (t: number, y: Float64Array) => Float64Array {
    return this.inner.vectorField(p, regime);
  }

  observe(p: MachineParams, regime: Regime, y: Float64Array): Record<string, number> {
    return this.inner.observe(p, regime, y);
  }
}

/**
 * `model` with its wear rate aimed at a life of `lifeDays` under the plant's default regimes (the
 * initial wear as the simulator draws it; only the rate is changed; same physics otherwise). Life at
 * constant rated stress is g(w0) / k, so k = g(w0) / (life · mean stress).
 */
export function withAcceleratedWear(model: MachineModel, lifeDays: number): MachineModel {
  const stress = MEAN_STRESS[model.assetType] ?? 1;
  return new WearOverride(model, (w) => ({
    ...w,
    rate: timeToFailureFactor(w.law, w.initial) / (lifeDays * DAY_S * stress),
  }));
}

/**
 * How far wear `w` moves the machine's noiseless sensors at a regime, in noise standard deviations:
 * the largest |x(w) − x(0)| / σ over the sensors, both at the model's steady state for that regime
 * (same machine, same operating point, with and without the wear). 0 while stopped.
 */
export function wearEffect(model: MachineModel, p: MachineParams, regime: Regime, w: number): number {
  if (!regime.running) return 0;
  const worn = model.observe(p, regime, model.initialState(p, regime, w));
  const fresh = model.observe(p, regime, model.initialState(p, regime, 0));
  let most = 0;
  for (const s of model.sensors) most = Math.max(most, Math.abs(worn[s.name] - fresh[s.name]) / s.noiseStd);
  return most;
}

/** Onset: the first time the wear's effect at the current operating point reaches this many σ. */
export const ONSET_SIGMA = 3;

export interface FleetOptions {
  machines: number;
  seed: number;
  /** Fraction of machines given an accelerated wear rate. */
  failingFraction: number;
  /** Target life of a failing machine (days), uniform in this range. */
  lifeDays: readonly [number, number];
}

/** One machine of the fleet and what the ground truth says about it. */
export class FleetMachine {
  readonly sim: SimulatedMachine;
  /** Designed to fail (accelerated wear). Whether it did is `failedAt`. */
  readonly accelerated: boolean;
  /** Failure time (simulated s) from the simulator's ground truth, null while it has not failed. */
  failedAt: number | null = null;
  /** Onset (simulated s): first time the wear's effect reached {@link ONSET_SIGMA}; null before. */
  onsetAt: number | null = null;

  constructor(
    readonly id: string,
    readonly model: MachineModel,
    rng: Rng,
    accelerated: boolean,
    lifeDays: number,
  ) {
    this.accelerated = accelerated;
    const wrapped = accelerated ? withAcceleratedWear(model, lifeDays) : model;
    // No repair: a failed machine is over for the evaluation.
    this.sim = new SimulatedMachine(id, wrapped, rng, { ...DEFAULT_BEHAVIOUR, repairTime: Infinity });
  }

  get assetType(): string {
    return this.model.assetType;
  }

  /** Advances to `t` (simulated s); returns the readings and updates failure and onset from the ground truth. */
  advance(t: number): Sample[] {
    if (this.failedAt !== null) return [];
    const step = this.sim.advance(t);
    for (const r of step.truth) if (r.type === 'failure' && typeof r.t === 'number') this.failedAt = r.t;
    if (this.onsetAt === null) {
      const at = this.failedAt ?? t;
      const wear = Math.min(this.sim.wear, 1);
      if (wearEffect(this.model, this.sim.params, this.sim.regime, wear) >= ONSET_SIGMA) this.onsetAt = at;
    }
    return step.samples;
  }
}

/** The fleet: pumps, motors and compressors in turn; a seeded share of them wear out within the run. */
export function buildFleet(options: FleetOptions): FleetMachine[] {
  const rng = new Rng(`eval-alerts/${options.seed}`);
  const design = rng.fork('design');
  const models = plantModels();
  return Array.from({ length: options.machines }, (_, i) => {
    const model = models[i % models.length];
    const accelerated = design.bernoulli(options.failingFraction);
    const life = design.uniform(options.lifeDays[0], options.lifeDays[1]);
    const id = `${model.assetType.split('-').pop()!}-${String(i).padStart(3, '0')}`;
    return new FleetMachine(id, model, rng.fork(id), accelerated, life);
  });
}
