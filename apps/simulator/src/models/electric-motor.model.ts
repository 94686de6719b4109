import type { Rng } from '../random/rng';
import { sampleWear, type MachineModel, type MachineParams, type Regime, type SensorDef } from './model';
import { wearRate, type WearLaw } from './wear';

/** Constants of one motor (DC-equivalent circuit of a 400 V, ~22 kW drive motor). */
export interface MotorParams extends MachineParams {
  voltage: number;
  /** Winding resistance (Ω) and inductance (H): electrical time constant L/R = 20 ms. */
  resistance: number;
  inductance: number;
  /** Torque/back-EMF constant (N m/A = V s/rad), rotor inertia (kg m²), viscous friction (N m s). */
  torqueConstant: number;
  inertia: number;
  friction: number;
  /** Rated load torque (N m); extra bearing friction torque at full wear (N m). */
  ratedTorque: number;
  wearFrictionTorque: number;
  /** Iron (no-load) losses while energised (W). */
  coreLoss: number;
  /** Thermal capacities (J/K) and resistances (K/W) winding -> frame -> ambient. */
  windingCapacity: number;
  frameCapacity: number;
  windingToFrame: number;
  frameToAmbient: number;
  /** Winding temperature at rated load and no wear, where the ageing stress is 1 (°C). */
  nominalWindingTemp: number;
}

const SENSORS: readonly SensorDef[] = [
  { name: 'current', unit: 'A', noiseStd: 0.3, ratePerHour: 60, scale: 50 },
  { name: 'speed', unit: 'rpm', noiseStd: 2, ratePerHour: 30, scale: 1500 },
  {
    name: 'winding_temperature',
    unit: 'degC',
    noiseStd: 0.5,
    ratePerHour: 12,
    scale: 80,
    failureThreshold: { above: 155 },
  },
  { name: 'frame_temperature', unit: 'degC', noiseStd: 0.3, ratePerHour: 6, scale: 50 },
  {
    name: 'vibration_rms',
    unit: 'mm/s',
    noiseStd: 0.08,
    ratePerHour: 20,
    scale: 1.5,
    failureThreshold: { above: 4.5 },
  },
];

/** Ageing doubles every 10 K (the "10-degree rule" of insulation and grease life, Montsinger 1930). */
const AGEING_PER_KELVIN = Math.LN2 / 10;

/** 'full': the stiff model with electrical and mechanical transients; 'reduced': those at quasi-steady state. */
export type MotorFidelity = 'full' | 'reduced';

/**
 * An electric drive motor with a slow thermal time constant and bearings that age with winding
 * temperature — the stiff model: time scales from 20 ms (current) to about an hour (frame heat)
 * to weeks (wear), a stiffness ratio of ~10⁸.
 *
 * Full state: [current i (A), speed ω (rad/s), winding temperature Tw (°C), frame temperature
 * Tf (°C), wear w]. With supply V (0 when stopped) and load torque TL = load · Trated:
 *
 *   L di/dt  = V - R i - K ω
 *   J dω/dt  = K i - b ω - TL - Tw0 w          (worn bearings add friction torque)
 *   Cw dTw/dt = i² R + Pcore - (Tw - Tf) / Rwf
 *   Cf dTf/dt = (Tw - Tf) / Rwf - (Tf - Ta) / Rfa
 *   dw/dt    = k exp(ln2 (Tw - Tw,nom) / 10) w   (running; exponential wear, Arrhenius-accelerated)
 *
 * The reduced model ('reduced', state [Tw, Tf, w]) puts the electrical and mechanical states at
 * their quasi-steady values (singular perturbation, L, J -> 0): i = (bV/K + TL + Tw0 w) / (K + bR/K),
 * ω = (V - R i) / K. It is what the plant integrates with an explicit solver; the full model
 * needs a stiff (implicit) solver for long horizons.
 */
export class ElectricMotorModel implements MachineModel<MotorParams> {
  readonly assetType = 'electric-motor';
  readonly sensors = SENSORS;
  readonly stateNames: readonly string[];
  readonly wearIndex: number;
  readonly wearDistribution = {
    law: 'exponential' as WearLaw,
    rateMedian: 1.6e-6,
    rateSigma: 0.3,
    initialRange: [0.02, 0.1] as const,
  };
  readonly stiff: boolean;
  readonly atol: readonly number[];

  constructor(readonly fidelity: MotorFidelity = 'reduced') {
    this.stiff = fidelity === 'full';
    this.stateNames =
      fidelity === 'full'
        ? ['current', 'speed', 'winding_temperature', 'frame_temperature', 'wear']
        : ['winding_temperature', 'frame_temperature', 'wear'];
    this.wearIndex = this.stateNames.length - 1;
    this.atol = fidelity === 'full' ? [1e-3, 1e-3, 1e-4, 1e-4, 1e-8] : [1e-4, 1e-4, 1e-8];
  }

  sampleParams(rng: Rng): MotorParams {
    const p: MotorParams = {
      wear: sampleWear(this.wearDistribution, rng),
      ambient: rng.uniform(18, 30),
      voltage: 400,
      resistance: 0.4,
      inductance: 0.008,
      torqueConstant: 2.42,
      inertia: 0.5,
      friction: 0.02,
      ratedTorque: rng.uniform(105, 120),
      wearFrictionTorque: 3,
      coreLoss: 300,
      windingCapacity: 60_000,
      frameCapacity: 135_000,
      windingToFrame: 0.02,
      frameToAmbient: 0.03,
      nominalWindingTemp: 0,
    };
    p.nominalWindingTemp = this.steadyTemperatures(p, { running: true, load: 1 }, 0).winding;
    return p;
  }

  /** Quasi-steady current (A) and speed (rad/s) at a regime and wear. */
  electromechanical(p: MotorParams, regime: Regime, w: number): { current: number; speed: number } {
    if (!regime.running) return { current: 0, speed: 0 };
    const { voltage: v, resistance: r, torqueConstant: k, friction: b } = p;
    const load = p.ratedTorque * Math.max(regime.load, 0) + p.wearFrictionTorque * w;
    const current = ((b * v) / k + load) / (k + (b * r) / k);
    return { current, speed: (v - r * current) / k };
  }

  /** Steady winding and frame temperatures at a regime and wear. */
  steadyTemperatures(p: MotorParams, regime: Regime, w: number): { winding: number; frame: number } {
    const { current } = this.electromechanical(p, regime, w);
    const heat = regime.running ? current * current * p.resistance + p.coreLoss : 0;
    const frame = p.ambient + heat * p.frameToAmbient;
    return { winding: frame + heat * p.windingToFrame, frame };
  }

  initialState(p: MotorParams, regime: Regime, wear: number): Float64Array {
    const { winding, frame } = this.steadyTemperatures(p, regime, wear);
    if (this.fidelity === 'reduced') return Float64Array.from([winding, frame, wear]);
    const { current, speed } = this.electromechanical(p, regime, wear);
    return Float64Array.from([current, speed, winding, frame, wear]);
  }

  private ageing(p: MotorParams, regime: Regime, tw: number): number {
    return regime.running ? Math.exp(AGEING_PER_KELVIN * (tw - p.nominalWindingTemp)) : 0;
  }

  vectorField(p: MotorParams, regime: Regime): (t: number, y: Float64Array) => Float64Array {
    const law = p.wear.law;
    const k = p.wear.rate;
    const heatFlow = (tw: number, tf: number) => (tw - tf) / p.windingToFrame;
    if (this.fidelity === 'reduced') {
      return (_t, y) => {
        const [tw, tf, w] = y;
        const { current } = this.electromechanical(p, regime, w);
        const heat = regime.running ? current * current * p.resistance + p.coreLoss : 0;
        const out = new Float64Array(3);
        out[0] = (heat - heatFlow(tw, tf)) / p.windingCapacity;
        out[1] = (heatFlow(tw, tf) - (tf - p.ambient) / p.frameToAmbient) / p.frameCapacity;
        out[2] = wearRate(law, k, this.ageing(p, regime, tw), w);
        return out;
      };
    }
    const v = regime.running ? p.voltage : 0;
    const loadTorque = regime.running ? p.ratedTorque * Math.max(regime.load, 0) : 0;
    return (_t, y) => {
      const [i, omega, tw, tf, w] = y;
      const out = new Float64Array(5);
      out[0] = (v - p.resistance * i - p.torqueConstant * omega) / p.inductance;
      // Friction opposes rotation; with the machine at rest it holds (no reverse spin).
      const drag = p.friction * omega + (omega > 1e-6 ? loadTorque + p.wearFrictionTorque * w : 0);
      out[1] = (p.torqueConstant * i - drag) / p.inertia;
      const heat = i * i * p.resistance + (regime.running ? p.coreLoss : 0);
      out[2] = (heat - heatFlow(tw, tf)) / p.windingCapacity;
      out[3] = (heatFlow(tw, tf) - (tf - p.ambient) / p.frameToAmbient) / p.frameCapacity;
      out[4] = wearRate(law, k, this.ageing(p, regime, tw), w);
      return out;
    };
  }

  observe(p: MotorParams, regime: Regime, y: Float64Array): Record<string, number> {
    let current: number, omega: number, tw: number, tf: number, w: number;
    if (this.fidelity === 'full') [current, omega, tw, tf, w] = y;
    else {
      [tw, tf, w] = y;
      ({ current, speed: omega } = this.electromechanical(p, regime, w));
    }
    const loadFraction = regime.running ? Math.max(regime.load, 0) : 0;
    return {
      current,
      speed: (omega * 60) / (2 * Math.PI),
      winding_temperature: tw,
      frame_temperature: tf,
      vibration_rms: omega > 1 ? 0.5 + 0.8 * loadFraction + 3.5 * w * w : 0.05,
    };
  }
}
