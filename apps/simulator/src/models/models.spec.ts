import { odeint } from '@continuum/ode';
import { DEFAULT_BEHAVIOUR, SimulatedMachine } from '../plant/machine';
import { Rng } from '../random/rng';
import {
  AirCompressorModel,
  CentrifugalPumpModel,
  ElectricMotorModel,
  failureTimeCdf,
  timeToFailureFactor,
  type MachineModel,
} from '.';

const models: MachineModel[] = [
  new CentrifugalPumpModel(),
  new ElectricMotorModel('reduced'),
  new AirCompressorModel(),
];
const quiet = { ...DEFAULT_BEHAVIOUR, repairTime: Infinity, burstRate: 1e-12 };

/** Failure time of one machine at constant nominal load: integrate the model until wear reaches 1. */
function failureTime(model: MachineModel, seed: number): { t: number; expected: number } {
  const params = model.sampleParams(new Rng(`ks/${model.assetType}/${seed}`));
  const regime = { running: true, load: 1 };
  const wi = model.wearIndex;
  const sol = odeint(
    model.vectorField(params, regime),
    model.initialState(params, regime, params.wear.initial),
    [0, 1e9],
    {
      rtol: 1e-6,
      atol: model.atol as number[],
      maxSteps: 200_000,
      events: [{ fn: (_t, y) => y[wi] - 1, direction: 1, terminal: true }],
    },
  );
  expect(sol.terminated).toBe(true);
  return { t: sol.events[0].t, expected: timeToFailureFactor(params.wear.law, params.wear.initial) / params.wear.rate };
}

describe.each(models.map((m) => [m.assetType, m] as const))('%s model', (_, model) => {
  it('declares sensors with units, noise, rates and at least one failure threshold', () => {
    for (const s of model.sensors) {
      expect(s.unit).toMatch(/\S/);
      expect(s.noiseStd).toBeGreaterThan(0);
      expect(s.ratePerHour).toBeGreaterThan(0);
    }
    expect(model.sensors.some((s) => s.failureThreshold)).toBe(true);
  });

  it('wears monotonically through regime changes and stops', () => {
    const m = new SimulatedMachine('m', model, new Rng(7), {
      ...quiet,
      meanRegimeDuration: 3 * 3600,
      stopProbability: 0.3,
    });
    let last = m.wear;
    const regimes = new Set<string>();
    for (let h = 1; h <= 24 * 20 && m.failedAt === null; h++) {
      m.advance(h * 3600);
      expect(m.wear).toBeGreaterThanOrEqual(last);
      last = m.wear;
      regimes.add(JSON.stringify(m.regime));
    }
    expect(regimes.size).toBeGreaterThan(2);
  });

  it('fails when the configured wear law says so, and the fleet failure times follow the configured distribution (KS test)', () => {
    const n = 100;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const { t, expected } = failureTime(model, i);
      // The motor's ageing speeds up a little as worn bearings heat the winding; the others are exact.
      expect(Math.abs(t - expected) / expected).toBeLessThan(model instanceof ElectricMotorModel ? 0.08 : 1e-3);
      times.push(t);
    }
    times.sort((a, b) => a - b);
    const d = model.wearDistribution;
    let ks = 0;
    times.forEach((t, i) => {
      const f = failureTimeCdf(d.law, d.rateMedian, d.rateSigma, d.initialRange, t);
      ks = Math.max(ks, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
    });
    // Kolmogorov–Smirnov critical value at alpha = 0.01: 1.63 / sqrt(n).
    expect(ks).toBeLessThan(1.63 / Math.sqrt(n));
    // Median failure time within a few days to a few months: something a demo and a month-long run both see.
    const median = times[n >> 1] / 86400;
    expect(median).toBeGreaterThan(5);
    expect(median).toBeLessThan(120);
  });

  it('reports sensor means that settle at the physics of each regime, and crosses a threshold near failure', () => {
    const m = new SimulatedMachine(
      'm',
      model,
      new Rng(11),
      { ...quiet, burstFactor: 1 },
      {
        regime: { running: true, load: 1 },
        fixedRegime: true,
      },
    );
    for (const load of [1, 0.6]) {
      m.setRegime({ running: true, load });
      m.advance(m.t + 4 * 3600); // settle: > 4 thermal time constants
      const from = m.t;
      const samples = m.advance(from + 6 * 3600).samples;
      const expected = model.observe(m.params, m.regime, model.initialState(m.params, m.regime, m.wear));
      for (const s of model.sensors) {
        const values = samples.filter((x) => s.name in x.values).map((x) => x.values[s.name]);
        expect(values.length).toBeGreaterThan(s.ratePerHour * 6 * 0.5);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        // 4 standard errors of the noise, plus the wear's drift over the window.
        const tolerance = (4 * s.noiseStd) / Math.sqrt(values.length) + 0.01 * Math.abs(expected[s.name]) + 1e-6;
        expect(Math.abs(mean - expected[s.name])).toBeLessThan(tolerance);
      }
    }
    const worn = model.initialState(m.params, { running: true, load: 1 }, 1);
    const atFailure = model.observe(m.params, { running: true, load: 1 }, worn);
    const crossed = model.sensors.filter((s) => {
      const v = atFailure[s.name];
      return (
        (s.failureThreshold?.above !== undefined && v > s.failureThreshold.above) ||
        (s.failureThreshold?.below !== undefined && v < s.failureThreshold.below)
      );
    });
    expect(crossed.length).toBeGreaterThan(0);
  });
});

describe('physics', () => {
  it('pump flow follows the affinity law and the system curve; pressure rises with speed', () => {
    const pump = new CentrifugalPumpModel();
    const p = pump.sampleParams(new Rng(1));
    const at = (load: number) =>
      pump.observe(p, { running: true, load }, pump.initialState(p, { running: true, load }, 0.1));
    expect(at(0.6).flow).toBeLessThan(at(1).flow * 0.6);
    expect(at(0.6).discharge_pressure).toBeLessThan(at(1).discharge_pressure);
    expect(at(1).motor_current).toBeGreaterThan(at(0.6).motor_current);
    const stopped = pump.observe(
      p,
      { running: false, load: 0 },
      pump.initialState(p, { running: false, load: 0 }, 0.1),
    );
    expect(stopped.flow).toBe(0);
  });

  it('motor winding heats with a slow thermal time constant after a load step', () => {
    const model = new ElectricMotorModel('reduced');
    const p = model.sampleParams(new Rng(3));
    const y0 = model.initialState(p, { running: true, load: 0.5 }, 0.05);
    const target = model.steadyTemperatures(p, { running: true, load: 1 }, 0.05).winding;
    const f = model.vectorField(p, { running: true, load: 1 });
    const sol = odeint(f, y0, [0, 600, 6 * 3600], { atol: model.atol as number[] });
    const progress = (t: number) => (t - y0[0]) / (target - y0[0]);
    expect(progress(sol.ys[1][0])).toBeLessThan(0.6); // after 10 minutes, well short of the new steady state
    expect(progress(sol.ys[2][0])).toBeGreaterThan(0.95);
  });

  it('the full motor model is stiff, and its slow states follow the reduced model after the start-up transient', () => {
    const full = new ElectricMotorModel('full');
    const reduced = new ElectricMotorModel('reduced');
    const p = full.sampleParams(new Rng(5));
    const stopped = { running: false, load: 0 };
    const running = { running: true, load: 0.8 };
    const y0 = full.initialState(p, stopped, 0.05);
    const ts = [0, 5, 60];
    const a = odeint(full.vectorField(p, running), y0, ts, { atol: full.atol as number[], maxSteps: 100_000 });
    const r0 = reduced.initialState(p, stopped, 0.05);
    const b = odeint(reduced.vectorField(p, running), r0, ts, { atol: reduced.atol as number[] });
    // Inrush: the current peaks far above the running current, then settles to the quasi-steady value.
    const qs = reduced.electromechanical(p, running, 0.05);
    expect(Math.abs(a.ys[2][0] - qs.current) / qs.current).toBeLessThan(1e-3);
    expect(Math.abs(a.ys[2][1] - qs.speed) / qs.speed).toBeLessThan(1e-3);
    expect(Math.abs(a.ys[2][2] - b.ys[2][0])).toBeLessThan(0.5);
    // An explicit solver is held to tiny steps by the 20 ms electrical mode for the whole minute.
    expect(a.stats.accepted).toBeGreaterThan(20 * b.stats.accepted);
  });
});
