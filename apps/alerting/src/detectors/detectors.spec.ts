import { SeededRandom, irregularTimes, twinMessage } from '../testing/synthetic';
import { DEFAULT_CUSUM, TimeAwareCusum } from './cusum';
import {
  AnomalyScoreCusumDetector,
  ForecastDetector,
  PersistenceFilter,
  ResidualCusumDetector,
  createDetector,
  probabilityRulWithin,
} from './detectors';

/**
 * Detector acceptance on synthetic residual streams. The stated figures (default parameters:
 * k = 0.5, leak 2/h, raise at 12):
 * - a +3σ step on one sensor is detected within 10 of that sensor's readings (mean ≤ 7; theory
 *   (h + 1.166)/(3 − k) ≈ 5.3), a 1σ step within 80 readings;
 * - a slow drift of 0.25σ per hour (one reading a minute, with stops) within 7 hours of its start,
 *   4 hours on average;
 * - stationary noise: fewer than 0.02 false alarms per machine-day (5 sensors, 40 irregular readings
 *   per hour each with bursts and stops, 150 simulated machine-days).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RAISE = 12;
const SENSORS = ['s0', 's1', 's2', 's3', 's4'];

const message = twinMessage;

/** Readings of a machine: each time one random sensor, a z-score from `z(sensor, t)`. */
function* stream(rng: SeededRandom, start: number, end: number, ratePerSensorHour: number) {
  for (const ts of irregularTimes(rng, start, end, ratePerSensorHour * SENSORS.length))
    yield { ts, sensor: SENSORS[Math.floor(rng.next() * SENSORS.length)] };
}

/** Readings of the faulty sensor from the fault's start until the detector's value reaches RAISE. */
function delayInReadings(seed: number, shift: number): number {
  const rng = new SeededRandom(seed);
  const detector = new ResidualCusumDetector({}, null);
  const faultAt = 6 * HOUR;
  let faulty = 0;
  for (const { ts, sensor } of stream(rng, 0, DAY, 40)) {
    const isFaulty = sensor === 's2' && ts >= faultAt;
    if (isFaulty) faulty++;
    const out = detector.update(message(ts, { [sensor]: rng.normal() + (isFaulty ? shift : 0) }))!;
    if (out.value >= RAISE) return ts >= faultAt ? faulty : -1;
  }
  return Infinity;
}

describe('time-aware CUSUM on residuals', () => {
  it('detects a +3σ step within 10 readings of the faulty sensor (mean ≤ 7) in 100 irregular streams', () => {
    const delays = Array.from({ length: 100 }, (_, i) => delayInReadings(1000 + i, 3));
    expect(delays.filter((d) => d < 0)).toEqual([]); // no alarm before the fault
    expect(Math.max(...delays)).toBeLessThanOrEqual(10);
    expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeLessThanOrEqual(7);
  });

  it('detects a −1σ step within 80 readings', () => {
    const delays = Array.from({ length: 50 }, (_, i) => delayInReadings(2000 + i, -1));
    expect(delays.filter((d) => d < 0)).toEqual([]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(80);
  });

  it('detects a slow drift of 0.25σ per hour within 7 hours of its start (4 hours on average)', () => {
    const delays: number[] = [];
    for (let trial = 0; trial < 100; trial++) {
      const rng = new SeededRandom(3000 + trial);
      const detector = new ResidualCusumDetector({}, ['vib']);
      const driftAt = 12 * HOUR;
      let detectedAt = Infinity;
      for (const ts of irregularTimes(rng, 0, DAY, 60)) {
        const mean = ts > driftAt ? (0.25 * (ts - driftAt)) / HOUR : 0;
        if (detector.update(message(ts, { vib: rng.normal() + mean, other: 10 }))!.value >= RAISE) {
          detectedAt = ts;
          break;
        }
      }
      expect(detectedAt).toBeGreaterThan(driftAt);
      delays.push(detectedAt - driftAt);
    }
    expect(Math.max(...delays)).toBeLessThan(7 * HOUR);
    expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeLessThan(4 * HOUR);
  });

  it('gives fewer than 0.02 false alarms per machine-day on stationary noise (150 machine-days)', () => {
    // The statistics the residual detector keeps (one CUSUM per sensor), driven directly for speed.
    const days = 150;
    let alarms = 0;
    let readings = 0;
    for (let m = 0; m < days; m++) {
      const rng = new SeededRandom(4000 + m);
      const cusums = SENSORS.map(() => new TimeAwareCusum(DEFAULT_CUSUM));
      for (const ts of irregularTimes(rng, 0, DAY, 40 * SENSORS.length)) {
        readings++;
        const cusum = cusums[Math.floor(rng.next() * SENSORS.length)];
        if (cusum.update(rng.normal(), ts) >= RAISE) {
          alarms++;
          cusum.reset(); // restart after an alarm
        }
      }
    }
    expect(readings / days).toBeGreaterThan(3000); // about 5 × 40 × 24, less the stops
    expect(alarms / days).toBeLessThan(0.02);
  });

  it('forgets evidence with elapsed time, not with the number of readings', () => {
    const timeAware = new TimeAwareCusum(DEFAULT_CUSUM);
    const perReading = new TimeAwareCusum({ ...DEFAULT_CUSUM, leakPerHour: 0 });
    for (let i = 0; i < 4; i++) {
      timeAware.update(2.5, i * 60_000);
      perReading.update(2.5, i * 60_000);
    }
    expect(timeAware.value).toBeCloseTo(8 - (2 * 3) / 60, 5); // 4 × (2.5 − k), less 3 minutes of leak
    // A machine stopped for six hours: the evidence before the gap has expired.
    timeAware.update(0.5, 6 * HOUR);
    perReading.update(0.5, 6 * HOUR);
    expect(timeAware.value).toBe(0);
    expect(perReading.value).toBeCloseTo(8, 5);
  });

  it('clips single wild readings and ignores sensors outside the rule', () => {
    const detector = new ResidualCusumDetector({}, ['a']);
    expect(detector.update(message(0, { b: 50 }))).toBeNull();
    const out = detector.update(message(1000, { a: 1e6 }))!;
    expect(out.value).toBeCloseTo(DEFAULT_CUSUM.clip - DEFAULT_CUSUM.k);
    expect(out).toMatchObject({ sensor: 'a', detail: { direction: 'up' } });
  });
});

describe('time-aware CUSUM on the anomaly score', () => {
  const params = { k: 1.5, clip: 6 };
  const raise = 15;

  it('gives fewer than 0.1 false alarms per machine-day when the score is a single squared z-score', () => {
    const days = 100;
    let alarms = 0;
    for (let m = 0; m < days; m++) {
      const rng = new SeededRandom(5000 + m);
      const detector = new AnomalyScoreCusumDetector(params);
      const update = message(0, {});
      for (const ts of irregularTimes(rng, 0, DAY, 200)) {
        const z = rng.normal();
        update.ts = ts;
        update.anomalyScore = z * z;
        if (detector.update(update).value >= raise) {
          alarms++;
          detector.reset();
        }
      }
    }
    expect(alarms / days).toBeLessThan(0.1);
  });

  it('detects a 3σ fault (score about 10) within 6 updates', () => {
    const rng = new SeededRandom(6000);
    const detector = new AnomalyScoreCusumDetector(params);
    let updates = 0;
    let value = 0;
    while (value < raise) {
      const z = rng.normal() + 3;
      value = detector.update(message(++updates * 60_000, {}, { anomalyScore: z * z })).value;
    }
    expect(updates).toBeLessThanOrEqual(6);
  });
});

describe('forecast detector', () => {
  const forecast = (
    crossingProbability: Record<string, number>,
    rulMs: { p10: number; p50: number; p90: number } | null,
  ) => ({ horizonMs: 7 * DAY, samples: 64, rulMs, crossingProbability }) as const;

  it('reads P(RUL ≤ limit) off the quantiles', () => {
    const rul = { p10: 2 * DAY, p50: 5 * DAY, p90: 9 * DAY };
    expect(probabilityRulWithin(rul, 2 * DAY)).toBeCloseTo(0.1);
    expect(probabilityRulWithin(rul, 5 * DAY)).toBeCloseTo(0.5);
    expect(probabilityRulWithin(rul, 7 * DAY)).toBeCloseTo(0.7);
    expect(probabilityRulWithin(rul, DAY)).toBeCloseTo(0.05);
    expect(probabilityRulWithin(rul, 100 * DAY)).toBe(1);
  });

  it('treats quantiles at the forecast horizon as censored (not within the horizon), not as crossing there', () => {
    // 24 h forecast, 10-50% of the samples cross within it: p50 and p90 sit at the horizon.
    const censored = { p10: 6 * 3_600_000, p50: DAY, p90: DAY };
    expect(probabilityRulWithin(censored, 7 * DAY, DAY)).toBeCloseTo(0.1);
    expect(probabilityRulWithin(censored, 3 * 3_600_000, DAY)).toBeCloseTo(0.05);
    // Without the horizon the censored points read as real quantiles: certain failure within 7 days.
    expect(probabilityRulWithin(censored, 7 * DAY)).toBe(1);
    // Nothing censored: the same as without a horizon.
    const inside = { p10: 2 * 3_600_000, p50: 6 * 3_600_000, p90: 12 * 3_600_000 };
    expect(probabilityRulWithin(inside, 9 * 3_600_000, DAY)).toBeCloseTo(probabilityRulWithin(inside, 9 * 3_600_000));
    const detector = new ForecastDetector({ rulLimitMs: 7 * DAY }, null);
    const out = detector.update(
      message(0, {}, { forecast: { horizonMs: DAY, samples: 32, rulMs: censored, crossingProbability: { vib: 0.3 } } }),
    )!;
    expect(out.value).toBeCloseTo(0.3);
  });

  it('takes the largest crossing probability of the watched sensors, or the RUL probability', () => {
    const detector = new ForecastDetector({ rulLimitMs: 3 * DAY }, ['vib', 'temp']);
    expect(detector.update(message(0, {}))).toBeNull();
    const a = detector.update(message(1, {}, { forecast: forecast({ vib: 0.4, temp: 0.7, flow: 0.99 }, null) }))!;
    expect(a).toMatchObject({ value: 0.7, sensor: 'temp' });
    const b = detector.update(
      message(2, {}, { forecast: forecast({ vib: 0.2 }, { p10: DAY, p50: 2 * DAY, p90: 4 * DAY }) }),
    )!;
    expect(b.value).toBeCloseTo(0.7); // P(RUL ≤ 3 d) between p50 and p90
    expect(b.detail).toMatchObject({ rulMs: { p10: DAY, p50: 2 * DAY, p90: 4 * DAY } });
  });

  it('is built from a rule', () => {
    const levels = { raiseAt: 12, clearAt: 3 };
    expect(createDetector({ detector: 'forecast', params: {}, sensors: null, ...levels })).toBeInstanceOf(
      ForecastDetector,
    );
    expect(createDetector({ detector: 'anomaly-cusum', params: {}, sensors: null, ...levels })).toBeInstanceOf(
      AnomalyScoreCusumDetector,
    );
    expect(createDetector({ detector: 'residual-cusum', params: {}, sensors: null, ...levels })).toBeInstanceOf(
      ResidualCusumDetector,
    );
    expect(
      createDetector({ detector: 'residual-cusum', params: { holdMinutes: 30 }, sensors: null, ...levels }),
    ).toBeInstanceOf(PersistenceFilter);
  });
});

describe('persistence in reading time (holdMinutes)', () => {
  const MIN = 60_000;
  const rule = { detector: 'residual-cusum' as const, sensors: ['a'], raiseAt: 12, clearAt: 3 };

  it("holds a value below the raise level until it has stayed up for the hold time, by the readings' clock", () => {
    const detector = createDetector({ ...rule, params: { holdMinutes: 30, leakPerHour: 0 } });
    const values: number[] = [];
    // z = 4.5: the CUSUM grows by 4 a reading (k 0.5) and reaches 12 at the third, at minute 2.
    for (let i = 0; i <= 40; i++) values.push(detector.update(message(i * MIN, { a: 4.5 }))!.value);
    expect(values[1]).toBe(8);
    expect(values.slice(2, 32).every((v) => v < 12 && v > 11.99)).toBe(true); // minutes 2-31: held
    expect(values[32]).toBe(30); // minute 32: 30 minutes after it reached 12 (capped at 30)
  });

  it('a transient shorter than the hold raises nothing; an episode ends below the clear level', () => {
    // An allowance of k 2.5: z 6 adds 3.5 a reading, z 0 takes 2.5 away.
    const detector = createDetector({ ...rule, params: { k: 2.5, holdMinutes: 30, leakPerHour: 0 } });
    const values: number[] = [];
    let t = 0;
    const feed = (z: number, n: number) => {
      for (let i = 0; i < n; i++) values.push(detector.update(message((t += MIN), { a: z }))!.value);
    };
    // Ten minutes of z 6 (the statistic reaches 12 at the 4th reading and the cap, 30, at the 9th),
    // then back to normal: below the clear level 3 eleven readings later, 17 minutes after it reached
    // 12. Then the same transient again: a new episode, held afresh.
    feed(6, 10);
    feed(0, 20);
    feed(6, 10);
    expect(Math.max(...values)).toBeLessThan(12);
    expect(Math.max(...values)).toBeGreaterThan(11.99);
    // The same again, but the fault stays: 30 minutes after the statistic reached 12, it passes.
    feed(0, 20);
    feed(6, 40);
    const firstHeld = values.length - 40 + 3; // the 4th reading of the last run
    expect(values.slice(firstHeld, firstHeld + 30).every((v) => v < 12)).toBe(true);
    expect(values[firstHeld + 30]).toBe(30);
  });

  it('counts reading time, so that a replay at any speed decides the same', () => {
    const run = () => {
      const detector = createDetector({ ...rule, params: { holdMinutes: 30 } });
      const rng = new SeededRandom(8100);
      return Array.from({ length: 300 }, (_, i) => detector.update(message(i * MIN, { a: rng.normal() + 3 }))!.value);
    };
    expect(run()).toEqual(run());
    expect(run().findIndex((v) => v >= 12)).toBeGreaterThanOrEqual(30);
  });
});
