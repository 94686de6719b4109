/**
 * `npm run eval:alerts`: precision, recall and mean lead time of alerting's predictive alerts on a
 * simulated fleet with known degradation onsets and failure times, against a plain fixed threshold
 * on the raw sensor, in the same run.
 *
 * Honest scope (see docs/benchmarks.md): the fleet is a documented synthetic degradation model, not
 * apps/simulator (apps do not import each other, and its ODE models are too slow for a fleet-months
 * run here), and the twin is a stand-in: its predictions are the healthy physics at the known load
 * (what a well-trained twin learns), its residuals are (reading − prediction)/σ, and its forecast is
 * a Monte-Carlo linear extrapolation of the last 24 h of vibration residuals. Detectors, rules and
 * lifecycle are alerting's own (default rules, AlertTracker), run on simulated time.
 *
 * Fleet: each machine has four sensors read at irregular times (Poisson, 12 per hour each, with
 * stops); the load changes every few hours among 0.6/0.75/0.9/1.0 and moves every sensor. 60% of
 * machines start degrading at a random day; vibration grows as 4·((t − onset)/τ)², τ from 5 to 15
 * days, with smaller effects on temperature and current; the machine fails when the noiseless
 * vibration at full load reaches the failure threshold 7.1 mm/s. The others stay healthy for 60 days.
 */
import type { TwinMessage } from '@continuum/contracts';
import { createDetector, type Detector } from '../detectors/detectors';
import { AlertTracker } from '../lifecycle/alert-tracker';
import type { AlertRule } from '../rules/alert-rule';
import { DEFAULT_RULES } from '../rules/default-rules';
import { SeededRandom } from '../testing/synthetic';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HORIZON = 60 * DAY;
const THRESHOLD = 7.1;
const MACHINES = Number(process.env.EVAL_MACHINES ?? 80);
const SEED = Number(process.env.EVAL_SEED ?? 11);

const SENSORS = {
  vib: { sigma: 0.3, nominal: (l: number) => 2 + 1.5 * l, wear: 1 },
  temp: { sigma: 1.0, nominal: (l: number) => 50 + 20 * l, wear: 1.5 },
  current: { sigma: 0.3, nominal: (l: number) => 10 + 15 * l, wear: 0.3 },
  flow: { sigma: 2.0, nominal: (l: number) => 100 * l, wear: 0 },
} as const;
type Sensor = keyof typeof SENSORS;
const NAMES = Object.keys(SENSORS) as Sensor[];
const LOADS = [0.6, 0.75, 0.9, 1.0];

interface Machine {
  id: string;
  onset: number | null;
  tau: number;
  /** Failure time, or null (healthy). */
  failAt: number | null;
}

function makeMachine(i: number, rng: SeededRandom): Machine {
  const degrades = rng.next() < 0.6;
  const tau = (5 + 10 * rng.next()) * DAY;
  const onset = degrades ? (5 + 35 * rng.next()) * DAY : null;
  // Noiseless vibration at full load: 3.5 + 4 ((t − onset)/τ)² = 7.1.
  const failAt = onset === null ? null : onset + Math.sqrt(3.6 / 4) * tau;
  return { id: `m${i}`, onset, tau, failAt };
}

const wearAt = (m: Machine, t: number) => (m.onset === null || t < m.onset ? 0 : 4 * ((t - m.onset) / m.tau) ** 2);

interface Outcome {
  firstAlert: number | null;
  alerts: number;
}

/** Stand-in twin forecast: Monte-Carlo linear extrapolation of the last 24 h of vibration residuals. */
function forecast(window: { t: number; r: number }[], now: number, rng: SeededRandom): TwinMessage['forecast'] {
  const horizonMs = 7 * DAY;
  // Too short a window gives a wild slope: the stand-in, like a cautious twin, forecasts only from 12 h of data.
  if (window.length < 20 || window[window.length - 1].t - window[0].t < 12 * HOUR) return undefined;
  const n = window.length;
  const mt = window.reduce((a, p) => a + p.t, 0) / n;
  const mr = window.reduce((a, p) => a + p.r, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of window) {
    sxx += (p.t - mt) ** 2;
    sxy += (p.t - mt) * (p.r - mr);
  }
  const slope = sxy / sxx;
  const level = mr + slope * (now - mt);
  let sse = 0;
  for (const p of window) sse += (p.r - (mr + slope * (p.t - mt))) ** 2;
  const se = Math.sqrt(sse / Math.max(1, n - 2) / sxx);
  const margin = THRESHOLD - SENSORS.vib.nominal(1);
  const ruls: number[] = [];
  for (let s = 0; s < 64; s++) {
    const b = slope + se * rng.normal();
    const a = level + (SENSORS.vib.sigma / Math.sqrt(n)) * rng.normal();
    ruls.push(a >= margin ? 0 : b > 0 ? (margin - a) / b : Infinity);
  }
  ruls.sort((x, y) => x - y);
  const q = (p: number) => ruls[Math.min(ruls.length - 1, Math.floor(p * ruls.length))];
  const crossing = ruls.filter((r) => r <= horizonMs).length / ruls.length;
  return {
    horizonMs,
    samples: ruls.length,
    rulMs: Number.isFinite(q(0.9)) ? { p10: q(0.1), p50: q(0.5), p90: q(0.9) } : null,
    crossingProbability: { vib: crossing },
  };
}

/** Runs a machine through the stand-in twin and the given rules; also the raw-threshold baselines. */
function runMachine(m: Machine, rules: readonly AlertRule[], baselineLevels: number[], seed: number) {
  const rng = new SeededRandom(seed);
  const end = m.failAt ?? HORIZON;
  const detectors: Detector[] = rules.map((r) => createDetector(r));
  const trackers = rules.map((r) => new AlertTracker(r));
  const perRule: Outcome[] = rules.map(() => ({ firstAlert: null, alerts: 0 }));
  const baseline: Outcome[] = baselineLevels.map(() => ({ firstAlert: null, alerts: 0 }));
  const baselineAbove = baselineLevels.map(() => false);
  let load = LOADS[Math.floor(rng.next() * LOADS.length)];
  let nextLoad = rng.exponential(6 * HOUR);
  let nextForecast = HOUR;
  const vibWindow: { t: number; r: number }[] = [];
  const ratePerHour = 12 * NAMES.length;
  let t = 0;
  while (true) {
    t += rng.next() < 0.001 ? rng.exponential(2 * HOUR) : rng.exponential(HOUR / ratePerHour);
    if (t >= end) break;
    if (t >= nextLoad) {
      load = LOADS[Math.floor(rng.next() * LOADS.length)];
      nextLoad = t + rng.exponential(6 * HOUR);
    }
    const sensor = NAMES[Math.floor(rng.next() * NAMES.length)];
    const spec = SENSORS[sensor];
    const value = spec.nominal(load) + spec.wear * wearAt(m, t) + spec.sigma * rng.normal();
    const z = (value - spec.nominal(load)) / spec.sigma;
    if (sensor === 'vib') {
      vibWindow.push({ t, r: value - spec.nominal(load) });
      while (vibWindow[0].t < t - DAY) vibWindow.shift();
      baselineLevels.forEach((level, i) => {
        const above = value >= level;
        if (above && !baselineAbove[i]) {
          baseline[i].alerts++;
          baseline[i].firstAlert ??= t;
        }
        baselineAbove[i] = above;
      });
    }
    const message: TwinMessage = {
      plantId: 'eval',
      machineId: m.id,
      ts: t,
      modelVersion: 'stand-in',
      prediction: {},
      residuals: { [sensor]: z },
      anomalyScore: z * z,
      nfe: 0,
      solverError: 0,
    };
    if (t >= nextForecast) {
      message.forecast = forecast(vibWindow, t, rng);
      nextForecast = t + HOUR;
    }
    rules.forEach((_, i) => {
      const out = detectors[i].update(message);
      const actions = out ? trackers[i].observe(out.value, t) : trackers[i].tick(t);
      for (const a of actions)
        if (a.type === 'raise') {
          perRule[i].alerts++;
          perRule[i].firstAlert ??= t;
        }
    });
  }
  return { perRule, baseline };
}

interface Score {
  name: string;
  precision: number;
  recall: number;
  meanLeadH: number;
  falseAlarmsPerMachineDay: number;
}

/**
 * A machine's first alert is a true positive when it comes after the degradation onset and before
 * the failure; any alert on a machine before its onset or on a healthy machine is a false alarm.
 */
function score(name: string, machines: Machine[], outcomes: Outcome[]): Score {
  let tp = 0;
  let fp = 0;
  let lead = 0;
  let falseAlarms = 0;
  let healthyDays = 0;
  machines.forEach((m, i) => {
    const o = outcomes[i];
    if (m.failAt === null) {
      healthyDays += HORIZON / DAY;
      falseAlarms += o.alerts;
    }
    if (o.firstAlert === null) return;
    if (m.onset !== null && m.failAt !== null && o.firstAlert >= m.onset && o.firstAlert < m.failAt) {
      tp++;
      lead += m.failAt - o.firstAlert;
    } else fp++;
  });
  const failures = machines.filter((m) => m.failAt !== null).length;
  return {
    name,
    precision: tp + fp ? tp / (tp + fp) : 1,
    recall: tp / failures,
    meanLeadH: tp ? lead / tp / HOUR : 0,
    falseAlarmsPerMachineDay: healthyDays ? falseAlarms / healthyDays : 0,
  };
}

function main(): void {
  const started = Date.now();
  const rng = new SeededRandom(SEED);
  const machines = Array.from({ length: MACHINES }, (_, i) => makeMachine(i, rng));
  const rules = DEFAULT_RULES.filter((r) => r.enabled);
  const levels = [5.0, 5.5, 6.0, 6.5];
  const results = machines.map((m, i) => runMachine(m, rules, levels, SEED * 1000 + i));
  const combined: Outcome[] = results.map(({ perRule }) => ({
    firstAlert: perRule.reduce<number | null>(
      (a, o) => (o.firstAlert === null ? a : a === null ? o.firstAlert : Math.min(a, o.firstAlert)),
      null,
    ),
    alerts: perRule.reduce((a, o) => a + o.alerts, 0),
  }));
  const scores: Score[] = [
    score('alerting: all default rules', machines, combined),
    ...rules.map((r, j) =>
      score(
        `alerting: ${r.id}`,
        machines,
        results.map((x) => x.perRule[j]),
      ),
    ),
    ...levels.map((level, j) =>
      score(
        `baseline: raw vib ≥ ${level.toFixed(1)} mm/s`,
        machines,
        results.map((x) => x.baseline[j]),
      ),
    ),
  ];
  const failures = machines.filter((m) => m.failAt !== null).length;
  console.log(
    `fleet: ${MACHINES} machines (seed ${SEED}), ${failures} fail within ${HORIZON / DAY} days; failure threshold vib ${THRESHOLD} mm/s`,
  );
  console.log('| detector | precision | recall | mean lead time (h) | false alarms / healthy machine-day |');
  console.log('|---|---|---|---|---|');
  for (const s of scores)
    console.log(
      `| ${s.name} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} | ${s.meanLeadH.toFixed(1)} | ${s.falseAlarmsPerMachineDay.toFixed(4)} |`,
    );
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main();
