import type { Rng } from '../random/rng';
import type { WearLaw } from './wear';

/** A sensor of a simulated asset type: what it measures, how noisy it is and how often it reports. */
export interface SensorDef {
  name: string;
  unit: string;
  /** The machine is considered failed when the value rises above `above` or falls below `below`. */
  failureThreshold?: { above?: number; below?: number };
  /** Standard deviation of the Gaussian measurement noise, in the sensor's unit. */
  noiseStd: number;
  /** Mean number of readings per simulated hour (Poisson arrivals). */
  ratePerHour: number;
  /** A typical magnitude of the signal, used to size injected faults (steps, drifts, spikes). */
  scale: number;
}

/** The operating point a machine is driven at: running or stopped, and a load set-point in [0, 1]. */
export interface Regime {
  running: boolean;
  /** Load set-point (pump speed, motor torque, compressor demand), 0..1 of rated; ignored when stopped. */
  load: number;
}

/** The per-machine random wear parameters: a rate and an initial wear, drawn from the model's distributions. */
export interface WearParams {
  law: WearLaw;
  /** Rate constant at nominal stress (1/s). */
  rate: number;
  /** Wear at the start of the simulation (0 < w0 < 1); failure at w = 1. */
  initial: number;
}

/** How a model's wear parameters are distributed over a fleet (what the failure-time tests check). */
export interface WearDistribution {
  law: WearLaw;
  /** Median of the log-normal rate constant (1/s). */
  rateMedian: number;
  /** Log-standard deviation of the rate constant. */
  rateSigma: number;
  /** Initial wear, uniform in [lo, hi]. */
  initialRange: readonly [number, number];
}

/** Per-machine constants of a model (ambient temperature, wear parameters, ...). */
export interface MachineParams {
  wear: WearParams;
  ambient: number;
}

/**
 * A physical machine model: an ODE dy/dt = f(t, y; regime, params) whose state includes a slow,
 * hidden wear variable (failure when it reaches 1), and an observation function from the state to
 * the noiseless sensor values. Regimes are piecewise constant; the simulator integrates between
 * regime changes with `@continuum/ode`.
 */
export interface MachineModel<P extends MachineParams = MachineParams> {
  readonly assetType: string;
  readonly sensors: readonly SensorDef[];
  /** Names of the state components, in order. */
  readonly stateNames: readonly string[];
  /** Index of the wear component in the state. */
  readonly wearIndex: number;
  readonly wearDistribution: WearDistribution;
  /** Whether the vector field is stiff (time scales many orders apart). */
  readonly stiff: boolean;
  /** Absolute tolerances per state component for the solver. */
  readonly atol: readonly number[];
  /** Draws one machine's constants. */
  sampleParams(rng: Rng): P;
  /** The state at the given wear, settled at the regime's operating point (thermal steady state). */
  initialState(params: P, regime: Regime, wear: number): Float64Array;
  /** The vector field under a constant regime. */
  vectorField(params: P, regime: Regime): (t: number, y: Float64Array) => Float64Array;
  /** Noiseless sensor values at a state. */
  observe(params: P, regime: Regime, y: Float64Array): Record<string, number>;
}

/** Draws wear parameters from a distribution. */
export function sampleWear(dist: WearDistribution, rng: Rng): WearParams {
  return {
    law: dist.law,
    rate: rng.logNormal(dist.rateMedian, dist.rateSigma),
    initial: rng.uniform(dist.initialRange[0], dist.initialRange[1]),
  };
}
