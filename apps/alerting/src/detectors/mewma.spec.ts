import { SeededRandom, irregularTimes, twinMessage } from '../testing/synthetic';
import { createDetector, detectorSpecKey, type DetectorSpec } from './detectors';
import {
  ReferenceFit,
  ResidualAverages,
  ResidualMewmaDetectorCore,
  referenceFromParams,
  referenceToParams,
  type ResidualReference,
} from './mewma';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TAU = { tauMinutes: 60, clip: 8, maxStepMinutes: 15 };

const message = twinMessage;

const PAIR: ResidualReference = {
  sensors: ['x', 'y'],
  mean: [0, 0],
  covariance: [
    [1, 0.9],
    [0.9, 1],
  ],
};

describe('residual-mewma reference as rule params', () => {
  it('round-trips through mean.<sensor> / cov.<a>.<b> params', () => {
    const params = referenceToParams(PAIR);
    expect(params).toEqual({ 'mean.x': 0, 'mean.y': 0, 'cov.x.x': 1, 'cov.x.y': 0.9, 'cov.y.y': 1 });
    expect(referenceFromParams({ ...params, tauMinutes: 30 })).toEqual(PAIR);
  });

  it('says what is wrong with a reference it cannot use', () => {
    const ok = referenceToParams(PAIR);
    expect(() => referenceFromParams({ k: 1 })).toThrow(/needs a reference/);
    const { 'cov.x.y': _, ...lacking } = ok;
    expect(() => referenceFromParams(lacking)).toThrow('the reference lacks cov.x.y');
    expect(() => referenceFromParams({ ...ok, 'cov.x.y': 1.5 })).toThrow(/not positive definite/);
    expect(() => referenceFromParams({ ...ok, 'cov.x.z': 0 })).toThrow(/"cov.x.z" is not cov/);
    expect(() => referenceFromParams({ ...ok, 'mean.a.b': 0 })).toThrow(/no dots in names/);
  });
});

describe('time-aware residual averages', () => {
  it('weigh readings by elapsed time, whatever the sampling rate', () => {
    // A constant residual of 1 from an average of 0: after T of reading time the average is
    // exactly 1 − exp(−T/τ), the product of the (1 − α) of the steps being exp(−ΣΔt/τ).
    for (const everyMs of [60_000, 300_000, 900_000]) {
      const avg = new ResidualAverages(['x'], [0], TAU);
      for (let t = 0; t <= 2 * HOUR; t += everyMs) avg.update({ x: 1 }, t);
      expect(avg.values[0]).toBeCloseTo(1 - Math.exp(-2), 12);
    }
  });

  it('let the first reading of a sensor only start its clock, and skip sensors outside the reference', () => {
    const avg = new ResidualAverages(['x'], [0.5], TAU);
    expect(avg.update({ x: 4 }, 0)).toBe(true);
    expect(avg.values[0]).toBe(0.5);
    expect(avg.update({ other: 4 }, HOUR)).toBe(false);
    // An hour later: clipped to 8, and standing for 15 minutes (maxStepMinutes), not the hour.
    expect(avg.update({ x: 100 }, HOUR)).toBe(true);
    expect(avg.values[0]).toBeCloseTo(0.5 + (1 - Math.exp(-0.25)) * 7.5, 12);
  });
});

describe('residual-mewma detector', () => {
  it('is the Mahalanobis distance of the averages: opposite moves of correlated sensors weigh far more', () => {
    // After one step of Δt = τ ln 2 the averages are half the residuals: (1, −1) and (1, 1).
    const step = 60 * Math.LN2 * MIN;
    const params = { ...TAU, maxStepMinutes: 60 };
    const opposite = new ResidualMewmaDetectorCore(PAIR, params);
    opposite.update(message(0, { x: 0, y: 0 }));
    const a = opposite.update(message(step, { x: 2, y: -2 }))!;
    // [1, −1] Σ⁻¹ [1, −1]ᵀ = (1 + 1 + 2 · 0.9) / (1 − 0.81) = 20
    expect(a.d2).toBeCloseTo(20, 9);
    // Each average one reference standard deviation off, in opposite directions; the first is named.
    expect(a.sensor).toBe('x');
    expect(opposite.deviations.x).toBeCloseTo(1, 9);
    expect(opposite.deviations.y).toBeCloseTo(-1, 9);
    const together = new ResidualMewmaDetectorCore(PAIR, params);
    together.update(message(0, { x: 0, y: 0 }));
    // (1 + 1 − 1.8) / 0.19 = 1.0526…
    expect(together.update(message(step, { x: 2, y: 2 }))!.d2).toBeCloseTo(0.2 / 0.19, 9);
    expect(together.update(message(step, { z: 3 }))).toBeNull();
  });

  it('is built from a rule, restricted to the rule’s sensors, and refuses a rule without a reference', () => {
    const rule = (params: Record<string, number>, sensors: string[] | null): DetectorSpec => ({
      detector: 'residual-mewma',
      params,
      sensors,
      raiseAt: 10,
      clearAt: 4,
    });
    const params = { ...referenceToParams(PAIR), maxStepMinutes: 60 };
    const d = createDetector(rule(params, ['x']));
    d.update(message(0, { x: 0, y: 0 }));
    // Only x: its average 1 (variance 1) gives D² = 1.
    const out = d.update(message(60 * Math.LN2 * MIN, { x: 2, y: -2 }))!;
    expect(out.value).toBeCloseTo(1, 9);
    expect(out.sensor).toBe('x');
    expect(Object.keys(out.detail.deviations as object)).toEqual(['x']);
    expect(() => createDetector(rule(params, ['q']))).toThrow('residual-mewma: no reference for q');
    // Kept to the model its reference was fitted on: another model's messages are not evaluated.
    const kept = createDetector({ ...rule(params, null), modelVersion: 'pump@v2' });
    expect(kept.update(message(0, { x: 0, y: 0 }, { modelVersion: 'pump@v3' }))).toBeNull();
    expect(kept.update(message(0, { x: 0, y: 0 }, { modelVersion: 'pump@v2' }))!.value).toBe(0);
    expect(detectorSpecKey({ ...rule(params, null), modelVersion: 'pump@v2' })).not.toBe(
      detectorSpecKey(rule(params, null)),
    );
    expect(() => createDetector(rule({}, null))).toThrow(/needs a reference/);
  });
});

/**
 * A drift the twin's filter half-absorbs, in miniature: two sensors whose residuals share a slow
 * common-mode wander on healthy machines (the twin off the same way on both, as discharge and oil
 * temperature are on the compressors), and a wear that pushes them apart by ±1 σ — each within a
 * per-sensor CUSUM's allowance of 2.5.
 */
function* machineStream(rng: SeededRandom, start: number, end: number, contrastAt: number) {
  let c = rng.normal() * 0.8;
  let last = start;
  for (const ts of irregularTimes(rng, start, end, 80)) {
    const dtH = (ts - last) / HOUR;
    last = ts;
    const rho = Math.exp(-dtH); // common mode: Ornstein-Uhlenbeck, std 0.8, time constant 1 h
    c = rho * c + Math.sqrt(1 - rho * rho) * 0.8 * rng.normal();
    const sensor = rng.next() < 0.5 ? 'x' : 'y';
    const shift = ts >= contrastAt ? (sensor === 'x' ? 1 : -1) : 0;
    yield { ts, residuals: { [sensor]: c + 0.6 * rng.normal() + shift } };
  }
}

describe('residual-mewma on synthetic residual streams', () => {
  const fit = new ReferenceFit(['x', 'y'], TAU);
  for (let m = 0; m < 20; m++)
    for (const { ts, residuals } of machineStream(new SeededRandom(500 + m), 0, DAY, Infinity))
      fit.add(message(ts, residuals, { machineId: `m${m}` }));
  const reference = fit.reference();
  const RAISE = 40;
  const spec = (detector: 'residual-mewma' | 'residual-cusum', params: Record<string, number>): DetectorSpec => ({
    detector,
    params: { ...params, holdMinutes: 30 },
    sensors: null,
    raiseAt: detector === 'residual-mewma' ? RAISE : 12,
    clearAt: detector === 'residual-mewma' ? 12 : 3,
  });
  const mewma = () => spec('residual-mewma', referenceToParams(reference));
  const cusum = () => spec('residual-cusum', { k: 2.5, leakPerHour: 2, clip: 8, cap: 30 });

  /** Hours from `contrastAt` until the detector's value reaches the raise level (−1: before it). */
  function delayHours(rule: DetectorSpec, seed: number, contrastAt: number, end: number): number {
    const d = createDetector(rule);
    for (const { ts, residuals } of machineStream(new SeededRandom(seed), 0, end, contrastAt)) {
      const out = d.update(message(ts, residuals));
      if (out && out.value >= rule.raiseAt) return ts >= contrastAt ? (ts - contrastAt) / HOUR : -1;
    }
    return Infinity;
  }

  it('fits the healthy pattern: the averages of the two sensors move together', () => {
    const [[vx, cxy], [, vy]] = reference.covariance;
    expect(fit.samples).toBeGreaterThan(20 * 200);
    expect(cxy / Math.sqrt(vx * vy)).toBeGreaterThan(0.8);
    expect(Math.abs(reference.mean[0])).toBeLessThan(0.2);
  });

  it('detects a ±1σ opposite shift within 5 hours (mean under 2) where the per-sensor CUSUM does not', () => {
    const at = 6 * HOUR;
    const found = Array.from({ length: 30 }, (_, i) => delayHours(mewma(), 900 + i, at, at + 6 * HOUR));
    expect(found.filter((d) => d < 0)).toEqual([]);
    expect(Math.max(...found)).toBeLessThanOrEqual(5);
    expect(found.reduce((a, b) => a + b, 0) / found.length).toBeLessThan(2);
    const perSensor = Array.from({ length: 30 }, (_, i) => delayHours(cusum(), 900 + i, at, at + 6 * HOUR));
    expect(perSensor.filter((d) => d >= 0 && d <= 5)).toEqual([]);
  });

  it('raises fewer than 0.05 false alarms per machine-day on healthy streams', () => {
    let alarms = 0;
    const days = 40;
    for (let m = 0; m < days; m++) {
      const d = createDetector(mewma());
      let on = false;
      for (const { ts, residuals } of machineStream(new SeededRandom(7000 + m), 0, DAY, Infinity)) {
        const v = d.update(message(ts, residuals))?.value ?? 0;
        if (!on && v >= RAISE) alarms++;
        on = v >= RAISE || (on && v >= 12);
      }
    }
    expect(alarms / days).toBeLessThan(0.05);
  });
});
