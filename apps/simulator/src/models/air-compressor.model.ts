import type { Rng } from '../random/rng';
import { sampleWear, type MachineModel, type MachineParams, type Regime, type SensorDef } from './model';
import { wearRate, type WearLaw } from './wear';

/** Constants of one compressor. */
export interface CompressorParams extends MachineParams {
  /** Pressure set-point of the modulating control (bar). */
  setPoint: number;
  /** Full-load motor power (kW). */
  ratedKw: number;
  /** Discharge-air and oil thermal time constants (s). */
  dischargeTau: number;
  oilTau: number;
}

const SENSORS: readonly SensorDef[] = [
  {
    name: 'discharge_pressure',
    unit: 'bar',
    noiseStd: 0.02,
    ratePerHour: 60,
    scale: 7,
    failureThreshold: { below: 5.3 },
  },
  {
    name: 'discharge_temperature',
    unit: 'degC',
    noiseStd: 0.4,
    ratePerHour: 20,
    scale: 80,
    failureThreshold: { above: 100 },
  },
  { name: 'oil_temperature', unit: 'degC', noiseStd: 0.3, ratePerHour: 6, scale: 60 },
  { name: 'motor_current', unit: 'A', noiseStd: 0.5, ratePerHour: 30, scale: 90 },
];

/**
 * An oil-injected rotary-screw air compressor with modulating capacity control, whose airend
 * wears (rotor clearances grow, exponential wear): volumetric efficiency ηv = 1 - 0.35 w falls,
 * so the compressor works harder for the same demand, runs hotter, and once demand exceeds
 * capacity the network pressure sags.
 *
 * State: [discharge temperature Td (°C), oil temperature To (°C), wear w (0..1)]. With demand
 * d (the regime's load) the capacity used is c = min(d / ηv, 1):
 *
 *   dTo/dt = (Ta + 35 (0.3 + 0.7 c) - To) / τo
 *   dTd/dt = (To + 12 + 10 c + 20 w² - Td) / τd
 *   dw/dt  = k (0.3 + 0.7 c) w     (stress 1 at full capacity, 0 when stopped)
 */
export class AirCompressorModel implements MachineModel<CompressorParams> {
  readonly assetType = 'air-compressor';
  readonly sensors = SENSORS;
  readonly stateNames = ['discharge_temperature', 'oil_temperature', 'wear'] as const;
  readonly wearIndex = 2;
  readonly wearDistribution = {
    law: 'exponential' as WearLaw,
    rateMedian: 1.8e-6,
    rateSigma: 0.3,
    initialRange: [0.02, 0.1] as const,
  };
  readonly stiff = false;
  readonly atol = [1e-4, 1e-4, 1e-8];

  sampleParams(rng: Rng): CompressorParams {
    return {
      wear: sampleWear(this.wearDistribution, rng),
      ambient: rng.uniform(18, 30),
      setPoint: rng.uniform(7.3, 7.7),
      ratedKw: 55,
      dischargeTau: 240,
      oilTau: 900,
    };
  }

  /** Fraction of displacement used (0 when stopped). */
  capacity(regime: Regime, w: number): number {
    if (!regime.running) return 0;
    const efficiency = 1 - 0.35 * w;
    return Math.min(Math.max(regime.load, 0) / efficiency, 1);
  }

  initialState(p: CompressorParams, regime: Regime, wear: number): Float64Array {
    const c = this.capacity(regime, wear);
    const on = regime.running ? 1 : 0;
    const to = p.ambient + 35 * on * (0.3 + 0.7 * c);
    const td = on ? to + 12 + 10 * c + 20 * wear * wear : to;
    return Float64Array.from([td, to, wear]);
  }

  vectorField(p: CompressorParams, regime: Regime): (t: number, y: Float64Array) => Float64Array {
    const on = regime.running ? 1 : 0;
    const law = p.wear.law;
    const k = p.wear.rate;
    return (_t, y) => {
      const [td, to, w] = y;
      const c = this.capacity(regime, w);
      const out = new Float64Array(3);
      out[1] = (p.ambient + 35 * on * (0.3 + 0.7 * c) - to) / p.oilTau;
      out[0] = ((on ? to + 12 + 10 * c + 20 * w * w : to) - td) / p.dischargeTau;
      out[2] = wearRate(law, k, on * (0.3 + 0.7 * c), w);
      return out;
    };
  }

  observe(p: CompressorParams, regime: Regime, y: Float64Array): Record<string, number> {
    const [td, to, w] = y;
    const c = this.capacity(regime, w);
    const demand = regime.running ? Math.max(regime.load, 0) : 0;
    const delivered = Math.min(demand, 1 - 0.35 * w);
    const deficit = demand - delivered;
    const kw = regime.running ? p.ratedKw * (0.3 + 0.7 * c) : 0;
    return {
      discharge_pressure: regime.running ? p.setPoint - 0.25 * demand - 6 * deficit : 0,
      discharge_temperature: td,
      oil_temperature: to,
      motor_current: (kw * 1000) / (Math.sqrt(3) * 400 * 0.9),
    };
  }
}
