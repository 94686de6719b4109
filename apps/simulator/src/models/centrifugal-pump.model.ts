import type { Rng } from '../random/rng';
import { sampleWear, type MachineModel, type MachineParams, type Regime, type SensorDef } from './model';
import { wearRate, type WearLaw } from './wear';

/** Constants of one pump. */
export interface PumpParams extends MachineParams {
  /** Shut-off head at rated speed (m). */
  shutoffHead: number;
  /** Static head of the system (m). */
  staticHead: number;
  /** Pump-curve and system-curve coefficients (m per (m³/h)²). */
  pumpK: number;
  systemK: number;
  /** Bearing and lube-oil thermal time constants (s). */
  bearingTau: number;
  oilTau: number;
}

const SENSORS: readonly SensorDef[] = [
  { name: 'flow', unit: 'm3/h', noiseStd: 1.0, ratePerHour: 60, scale: 100 },
  { name: 'discharge_pressure', unit: 'bar', noiseStd: 0.03, ratePerHour: 60, scale: 3 },
  { name: 'motor_current', unit: 'A', noiseStd: 0.2, ratePerHour: 30, scale: 25 },
  {
    name: 'bearing_temperature',
    unit: 'degC',
    noiseStd: 0.3,
    ratePerHour: 12,
    scale: 60,
    failureThreshold: { above: 95 },
  },
  { name: 'vibration_rms', unit: 'mm/s', noiseStd: 0.1, ratePerHour: 20, scale: 2, failureThreshold: { above: 7.1 } },
];

const RHO_G = 1000 * 9.81;

/**
 * A centrifugal pump on a variable-speed drive, with rolling bearings that crack (Paris law).
 *
 * State: [bearing temperature Tb (°C), lube-oil temperature To (°C), crack size w (0..1)].
 * The operating point follows the affinity laws: at speed fraction s the pump curve
 * H = H0 s² (1 - 0.12 w) - Kp Q² meets the system curve H = Hs + Ks Q²; pressure = ρ g H,
 * shaft power = ρ g Q H / η with η falling as the pump wears. Bearings heat with speed and with
 * damage; vibration grows with the square of the damage (the spall's impact energy).
 *
 *   dTo/dt = (Ta + 18 s² - To) / τo
 *   dTb/dt = (To + 22 s (1 + 1.5 w²) - Tb) / τb
 *   dw/dt  = k s³ w^1.5           (Paris law, m = 3; load amplitude ∝ s)
 */
export class CentrifugalPumpModel implements MachineModel<PumpParams> {
  readonly assetType = 'centrifugal-pump';
  readonly sensors = SENSORS;
  readonly stateNames = ['bearing_temperature', 'oil_temperature', 'wear'] as const;
  readonly wearIndex = 2;
  readonly wearDistribution = {
    law: 'paris' as WearLaw,
    rateMedian: 2.5e-6,
    rateSigma: 0.35,
    initialRange: [0.05, 0.2] as const,
  };
  readonly stiff = false;
  readonly atol = [1e-4, 1e-4, 1e-8];

  sampleParams(rng: Rng): PumpParams {
    return {
      wear: sampleWear(this.wearDistribution, rng),
      ambient: rng.uniform(18, 30),
      shutoffHead: rng.uniform(52, 58),
      staticHead: rng.uniform(12, 18),
      pumpK: 0.002,
      systemK: 0.0015,
      bearingTau: 900,
      oilTau: 1800,
    };
  }

  /** Speed fraction of a regime (0 when stopped). */
  private speed(regime: Regime): number {
    return regime.running ? Math.min(Math.max(regime.load, 0), 1) : 0;
  }

  /** Flow (m³/h) and head (m) at speed s and wear w: the intersection of pump and system curves. */
  operatingPoint(p: PumpParams, s: number, w: number): { flow: number; head: number } {
    const h0 = p.shutoffHead * s * s * (1 - 0.12 * w);
    if (h0 <= p.staticHead) return { flow: 0, head: s > 0 ? h0 : 0 };
    const flow = Math.sqrt((h0 - p.staticHead) / (p.pumpK + p.systemK));
    return { flow, head: p.staticHead + p.systemK * flow * flow };
  }

  initialState(p: PumpParams, regime: Regime, wear: number): Float64Array {
    const s = this.speed(regime);
    const to = p.ambient + 18 * s * s;
    const tb = to + 22 * s * (1 + 1.5 * wear * wear);
    return Float64Array.from([tb, to, wear]);
  }

  vectorField(p: PumpParams, regime: Regime): (t: number, y: Float64Array) => Float64Array {
    const s = this.speed(regime);
    const stress = s * s * s;
    const law = p.wear.law;
    const k = p.wear.rate;
    return (_t, y) => {
      const [tb, to, w] = y;
      const out = new Float64Array(3);
      out[0] = (to + 22 * s * (1 + 1.5 * w * w) - tb) / p.bearingTau;
      out[1] = (p.ambient + 18 * s * s - to) / p.oilTau;
      out[2] = wearRate(law, k, stress, w);
      return out;
    };
  }

  observe(p: PumpParams, regime: Regime, y: Float64Array): Record<string, number> {
    const s = this.speed(regime);
    const [tb, , w] = y;
    const { flow, head } = this.operatingPoint(p, s, w);
    const efficiency = 0.75 * (1 - 0.15 * w);
    const shaftKw = s > 0 ? (RHO_G * (flow / 3600) * head) / efficiency / 1000 : 0;
    // Three-phase 400 V, power factor 0.88, motor efficiency 0.93; magnetising current 4 A.
    const current = s > 0 ? 4 + (shaftKw * 1000) / (Math.sqrt(3) * 400 * 0.88 * 0.93) : 0;
    return {
      flow,
      discharge_pressure: (RHO_G * head) / 1e5,
      motor_current: current,
      bearing_temperature: tb,
      vibration_rms: s > 0 ? 0.3 + 1.6 * s * s + 5.5 * w * w * s : 0.1,
    };
  }
}
