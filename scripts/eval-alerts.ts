/**
 * `npm run eval:alerts` — issue 11's evaluation report: precision, recall and lead time of alerting's
 * alerts on a simulated fleet with known failure times, against fixed thresholds on the raw sensors,
 * in the same run.
 *
 * Pipeline, all in one process on simulated time (no broker, no database):
 * - fleet (scripts/eval-alerts/fleet.ts): apps/simulator's machines — centrifugal pumps, electric
 *   motors, air compressors in turn, their physics, default regimes (load changes among
 *   0.6/0.75/0.9/1.0 every ~6 h, stops), bursts and noise — some with an accelerated wear rate so that
 *   they fail within the run; failure = the simulator's ground truth (hidden wear reaches 1), onset =
 *   the first time the wear moved some noiseless sensor by 3 noise σ at the current operating point;
 * - twin (scripts/eval-alerts/twin-runner.ts): every reading through the shipped model of its asset type
 *   (`models/default`, `@continuum/neural` ModelBank as apps/twin runs it: batched advance / predict /
 *   update, z-score residuals, anomaly score), forecasts with the twin's default horizon, samples and
 *   points against the machines' failure thresholds;
 * - alerting (scripts/eval-alerts/scoring.ts): apps/alerting's detectors and AlertTracker lifecycle with
 *   the default rules (and the divergence rule at other allowances k), and fixed thresholds on the raw
 *   sensors at several margins below their failure thresholds, with the same lifecycle.
 *
 * Environment: EVAL_MACHINES (36), EVAL_DAYS (2.5), EVAL_SEED (11), EVAL_FAILING (fraction designed to
 * fail, 0.5), EVAL_LIFE_DAYS (target life of those, "0.9,2"), EVAL_WARMUP_H (2: the twin runs this long
 * before anything is scored, as a twin that has followed its machine for a while), EVAL_FORECAST_MIN
 * (simulated minutes between forecasts, 30; the twin's default is 5), EVAL_K (divergence allowances,
 * "2.5,1.5,0.5"), EVAL_MODELS_DIR (models/default), EVAL_CHUNK_S (simulated seconds per step of
 * the loop, 600), CONTINUUM_TF_BACKEND (wasm). Deterministic for a seed (and models).
 */
import * as path from 'node:path';
import type { TwinMessage } from '@continuum/contracts';
import { initTensorBackend } from '@continuum/ode';
import { disposeTwinModel, loadTwinModelFromDirectory } from '@continuum/neural';
import type { AlertRule } from '../apps/alerting/src/rules/alert-rule';
import { DEFAULT_RULES } from '../apps/alerting/src/rules/default-rules';
import { Rng } from '../apps/simulator/src/random/rng';
import { buildFleet, ONSET_SIGMA, type FleetMachine } from './eval-alerts/fleet';
import {
  median,
  RuleWatch,
  score,
  ThresholdWatch,
  type Raises,
  type ThresholdSensor,
  type Truth,
} from './eval-alerts/scoring';
import { TWIN_FORECAST_DEFAULTS, TwinRunner, type EvalReading } from './eval-alerts/twin-runner';

const HOUR_S = 3600;
const DAY_S = 86_400;
const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const numbers = (text: string) => text.split(',').map(Number);

const MACHINES = Number(env('EVAL_MACHINES', '36'));
const DAYS = Number(env('EVAL_DAYS', '2.5'));
const SEED = Number(env('EVAL_SEED', '11'));
const FAILING = Number(env('EVAL_FAILING', '0.5'));
const LIFE_DAYS = numbers(env('EVAL_LIFE_DAYS', '0.9,2')) as [number, number];
const WARMUP_S = Number(env('EVAL_WARMUP_H', '2')) * HOUR_S;
const FORECAST_S = Number(env('EVAL_FORECAST_MIN', '30')) * 60;
const KS = numbers(env('EVAL_K', '2.5,1.5,0.5'));
const MODELS_DIR = env('EVAL_MODELS_DIR', path.join(__dirname, '..', 'models', 'default'));
/** Simulated seconds per step of the loop (the twin's batches hold what arrived meanwhile). */
const CHUNK_S = Number(env('EVAL_CHUNK_S', '600'));
/** Margins of the fixed-threshold baseline below the failure thresholds. */
const MARGINS = [0, 0.1, 0.2, 0.3, 0.4, 0.5];

interface Method {
  name: string;
  /** Per machine. */
  raises: Raises[];
}

function rulesToRun(): { rule: AlertRule; name: string }[] {
  const shipped = DEFAULT_RULES.filter((r) => r.enabled).map((rule) => ({
    rule,
    name: rule.detector === 'residual-cusum' ? `alerting: ${rule.id} (k ${rule.params.k})` : `alerting: ${rule.id}`,
  }));
  const divergence = DEFAULT_RULES.find((r) => r.id === 'default-divergence')!;
  const variants = KS.filter((k) => k !== divergence.params.k).map((k) => ({
    rule: { ...divergence, id: `divergence-k${k}`, params: { ...divergence.params, k } },
    name: `alerting: default-divergence at k ${k}`,
  }));
  return [...shipped, ...variants];
}

/** Per asset type and sensor: mean and standard deviation of the twin's z-scores on machines that did not fail. */
class Calibration {
  private readonly sums = new Map<string, { n: number; s: number; q: number }>();

  add(assetType: string, residuals: Record<string, number>): void {
    for (const [sensor, z] of Object.entries(residuals)) {
      const key = `${assetType} ${sensor}`;
      const e = this.sums.get(key) ?? { n: 0, s: 0, q: 0 };
      e.n++;
      e.s += z;
      e.q += z * z;
      this.sums.set(key, e);
    }
  }

  lines(): string[] {
    return [...this.sums].map(([key, { n, s, q }]) => {
      const mean = s / n;
      return `  ${key.padEnd(42)} mean z ${mean.toFixed(2).padStart(6)}  std z ${Math.sqrt(Math.max(q / n - mean * mean, 0)).toFixed(2)}  (${n})`;
    });
  }
}

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

async function main(): Promise<void> {
  const started = Date.now();
  await initTensorBackend({ backend: env('CONTINUUM_TF_BACKEND', 'wasm') });
  const fleet = buildFleet({ machines: MACHINES, seed: SEED, failingFraction: FAILING, lifeDays: LIFE_DAYS });
  const runners = new Map<string, TwinRunner>();
  const thresholdSensors = new Map<string, ThresholdSensor[]>();
  for (const m of fleet) {
    if (runners.has(m.assetType)) continue;
    const sensors = m.model.sensors.filter((s) => s.failureThreshold) as ThresholdSensor[];
    thresholdSensors.set(m.assetType, sensors);
    const model = loadTwinModelFromDirectory(path.join(MODELS_DIR, m.assetType), m.assetType);
    runners.set(
      m.assetType,
      new TwinRunner(model, 'eval', Object.fromEntries(sensors.map((s) => [s.name, s.failureThreshold]))),
    );
  }
  const rules = rulesToRun();
  const ruleWatches = fleet.map(() => rules.map(({ rule }) => new RuleWatch(rule)));
  const thresholdWatches = fleet.map((m) =>
    MARGINS.map((g) => new ThresholdWatch(thresholdSensors.get(m.assetType)!, g)),
  );
  const calibration = new Calibration();
  const forecastRng = new Rng(`eval-alerts/${SEED}`).fork('forecast');
  const rand = () => forecastRng.normal(0, 1);
  const horizonS = DAYS * DAY_S;
  console.log(
    `eval:alerts — ${MACHINES} machines (seed ${SEED}), ${DAYS} simulated days, ${Math.round(FAILING * 100)}% with wear aimed at ${LIFE_DAYS.join('-')} days; twin models from ${path.relative(process.cwd(), MODELS_DIR) || MODELS_DIR}; warm-up ${WARMUP_S / HOUR_S} h; forecast every ${FORECAST_S / 60} min (horizon ${TWIN_FORECAST_DEFAULTS.horizonMs / 3_600_000} h, ${TWIN_FORECAST_DEFAULTS.samples} samples, ${TWIN_FORECAST_DEFAULTS.points} points)`,
  );
  let lastForecast = -Infinity;
  let readings = 0;
  let forecasts = 0;
  let nextReport = 6 * HOUR_S;
  const spent = { simulator: 0, twin: 0, forecast: 0 };
  const clock = (part: keyof typeof spent, since: number) => (spent[part] += performance.now() - since);
  const index = new Map(fleet.map((m, i) => [m.id, i]));
  for (let t = CHUNK_S; t <= horizonS; t += CHUNK_S) {
    const byType = new Map<string, { machine: FleetMachine; reading: EvalReading }[]>();
    let since = performance.now();
    for (const m of fleet) {
      for (const s of m.advance(t)) {
        let list = byType.get(m.assetType);
        if (!list) byType.set(m.assetType, (list = []));
        list.push({ machine: m, reading: { machineId: m.id, timeMs: s.t * 1000, values: s.values } });
      }
    }
    clock('simulator', since);
    const forecastDue = t >= WARMUP_S && t - lastForecast >= FORECAST_S;
    if (forecastDue) lastForecast = t;
    for (const [assetType, items] of byType) {
      readings += items.length;
      const runner = runners.get(assetType)!;
      since = performance.now();
      const messages = runner.process(items.map((x) => x.reading));
      clock('twin', since);
      if (forecastDue) {
        since = performance.now();
        const last = new Map<string, TwinMessage>();
        for (const msg of messages) last.set(msg.machineId, msg);
        const summaries = runner.forecast([...last.keys()], TWIN_FORECAST_DEFAULTS, rand);
        forecasts += summaries.size;
        for (const [id, f] of summaries) last.get(id)!.forecast = f;
        clock('forecast', since);
      }
      if (t <= WARMUP_S) continue;
      for (const msg of messages) {
        if (msg.ts < WARMUP_S * 1000) continue;
        const i = index.get(msg.machineId)!;
        for (const w of ruleWatches[i]) w.observe(msg);
        if (!fleet[i].accelerated) calibration.add(assetType, msg.residuals);
      }
      for (const { machine, reading } of items) {
        if (reading.timeMs < WARMUP_S * 1000) continue;
        for (const w of thresholdWatches[index.get(machine.id)!]) w.observe(reading.timeMs, reading.values);
      }
    }
    if (t > WARMUP_S)
      fleet.forEach((m, i) => {
        if (m.failedAt !== null) return;
        for (const w of ruleWatches[i]) w.tick(t * 1000);
        for (const w of thresholdWatches[i]) w.tick(t * 1000);
      });
    if (t >= nextReport) {
      nextReport += 6 * HOUR_S;
      const failed = fleet.filter((m) => m.failedAt !== null).length;
      console.log(
        `  ${(t / HOUR_S).toFixed(0).padStart(3)} h simulated: ${readings} readings, ${forecasts} forecasts, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  }

  const truths: Truth[] = fleet.map((m) => {
    const failedMs = m.failedAt === null ? null : m.failedAt * 1000;
    const end = failedMs ?? horizonS * 1000;
    return {
      failedAt: failedMs,
      onsetAt: m.onsetAt === null ? null : m.onsetAt * 1000,
      censored: (m.accelerated && failedMs === null) || (failedMs !== null && failedMs <= WARMUP_S * 1000),
      watchedMs: Math.max(0, end - WARMUP_S * 1000),
    };
  });
  const methods: Method[] = [
    {
      name: 'alerting: all default rules',
      raises: ruleWatches.map((ws) =>
        DEFAULT_RULES.filter((r) => r.enabled)
          .flatMap((_, j) => ws[j].raises)
          .sort((a, b) => a - b),
      ),
    },
    ...rules.map(({ name }, j) => ({ name, raises: ruleWatches.map((ws) => ws[j].raises) })),
    ...MARGINS.map((g, j) => ({
      name:
        g === 0
          ? 'baseline: raw sensor beyond its failure threshold'
          : `baseline: raw sensor within ${Math.round(g * 100)}% of its failure threshold`,
      raises: thresholdWatches.map((ws) => ws[j].raises),
    })),
  ];
  const scores = methods.map((m) => score(m.name, truths, m.raises));

  const failed = fleet.filter((_, i) => truths[i].failedAt !== null && !truths[i].censored);
  const healthy = fleet.filter((_, i) => truths[i].failedAt === null && !truths[i].censored);
  const censored = fleet.filter((_, i) => truths[i].censored);
  const pf = failed.map((m) => (m.failedAt! - (m.onsetAt ?? m.failedAt!)) / HOUR_S).sort((a, b) => a - b);
  const healthyDays = healthy.reduce((a, m) => a + truths[fleet.indexOf(m)].watchedMs, 0) / 86_400_000;
  const seconds = (Date.now() - started) / 1000;
  const nfe = [...runners.values()].reduce((a, r) => a + r.nfe, 0);
  console.log('');
  console.log(
    `fleet: ${fleet.length} machines; ${failed.length} failed within ${DAYS} days (${['centrifugal-pump', 'electric-motor', 'air-compressor'].map((a) => `${failed.filter((m) => m.assetType === a).length} ${a}`).join(', ')}), ${healthy.length} did not (${fmt(healthyDays, 1)} machine-days watched), ${censored.length} censored (designed to fail, did not within the run)`,
  );
  console.log(
    `onset (wear moves a noiseless sensor by ${ONSET_SIGMA} σ at the operating point) to failure: median ${fmt(median(pf), 1)} h, range ${fmt(pf[0] ?? NaN, 1)}-${fmt(pf[pf.length - 1] ?? NaN, 1)} h`,
  );
  console.log(
    `${readings} readings, ${forecasts} forecasts, ${nfe} NFE; ${seconds.toFixed(0)} s (simulator ${(spent.simulator / 1000).toFixed(0)} s, twin updates ${(spent.twin / 1000).toFixed(0)} s, forecasts ${(spent.forecast / 1000).toFixed(0)} s)`,
  );
  console.log('');
  console.log(
    '| method | precision | recall | mean lead (h) | median lead (h) | false alarms / healthy machine-day | healthy machines alerted |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const s of scores)
    console.log(
      `| ${s.name} | ${fmt(s.precision, 2)} (${s.tp}/${s.tp + s.fp}) | ${fmt(s.recall, 2)} (${s.tp}/${s.failures}) | ${fmt(s.meanLeadH, 1)} | ${fmt(s.medianLeadH, 1)} | ${fmt(s.falseAlarmsPerMachineDay, 2)} | ${s.healthyAlerted}/${healthy.length} |`,
    );
  console.log('');
  console.log('true positives by asset type (first alert between onset and failure / failures):');
  for (const [i, m] of methods.entries()) {
    const parts = ['centrifugal-pump', 'electric-motor', 'air-compressor'].map((a) => {
      const pick = fleet.map((f, j) => ({ f, j })).filter(({ f, j }) => f.assetType === a && !truths[j].censored);
      const s = score(
        a,
        pick.map(({ j }) => truths[j]),
        pick.map(({ j }) => m.raises[j]),
      );
      return `${a} ${s.tp}/${s.failures}`;
    });
    console.log(`  ${scores[i].name}: ${parts.join(', ')}`);
  }
  console.log('');
  console.log(
    'target (issue 11): higher recall at equal or better precision, and a longer mean lead time, than the baseline:',
  );
  const divergence = scores.find((s) => s.name.startsWith('alerting: default-divergence ('))!;
  for (const b of scores.filter((s) => s.name.startsWith('baseline'))) {
    const meets = (a: (typeof scores)[number]) =>
      a.recall > b.recall && a.precision >= b.precision && (a.meanLeadH > b.meanLeadH || !Number.isFinite(b.meanLeadH));
    console.log(
      `  vs ${b.name}: all default rules ${meets(scores[0]) ? 'met' : 'not met'}; default-divergence alone ${meets(divergence) ? 'met' : 'not met'}`,
    );
  }
  console.log('');
  console.log('twin calibration on machines that did not fail (after the warm-up):');
  console.log(calibration.lines().join('\n'));
  for (const r of runners.values()) {
    r.dispose();
    disposeTwinModel(r.model);
  }
}

void (async () => {
  try {
    await main();
  } catch (err) {
    console.error((err as Error).stack ?? err);
    process.exit(1);
  }
})();
