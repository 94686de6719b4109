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
 *
 * Rules of your own: EVAL_RULES=<file.json>, an array of `{ "name", "base", ...fields }`, each a rule
 * scored next to the defaults — the default rule `base` (an id) with the given fields over it (params
 * merged), checked as the api checks a rule; rules that share a name make one row (one per asset type,
 * say), and a rule scoped to an asset type or a machine watches only those. Re-scoring without the twin:
 * EVAL_TRACE=<file.jsonl.gz> records what the scoring needs of a run (scripts/eval-alerts/trace.ts),
 * EVAL_REPLAY=<file> scores the rules against such a recording in seconds (the fleet settings are the
 * recording's), EVAL_REPLAY=<a>,<b>,... scores several recordings as one fleet. EVAL_CALIBRATE=<file.json>
 * fits residual-mewma references (apps/alerting detectors/mewma.ts) on the machines not designed to fail
 * and writes them as rule params per asset type (how the shipped default-references.ts were made).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TwinMessage } from '@continuum/contracts';
import { initTensorBackend } from '@continuum/ode';
import { disposeTwinModel, loadTwinModelFromDirectory } from '@continuum/neural';
import { ReferenceFit, referenceToParams } from '../apps/alerting/src/detectors/mewma';
import { DEFAULT_RULES } from '../apps/alerting/src/rules/default-rules';
import { RulesService } from '../apps/alerting/src/rules/rules.service';
import { Rng } from '../apps/simulator/src/random/rng';
import { buildFleet, ONSET_SIGMA } from './eval-alerts/fleet';
import { readExtraRules, type NamedRule } from './eval-alerts/rules';
import {
  median,
  RuleWatch,
  score,
  ThresholdWatch,
  type Raises,
  type ThresholdSensor,
  type Truth,
} from './eval-alerts/scoring';
import {
  readTrace,
  scoredMessage,
  TRACE_FORMAT,
  TraceWriter,
  type RunStats,
  type ScoredMessage,
  type TraceMachine,
} from './eval-alerts/trace';
import { TWIN_FORECAST_DEFAULTS, TwinRunner, type EvalReading } from './eval-alerts/twin-runner';

const HOUR_S = 3600;
const DAY_S = 86_400;
const ASSET_TYPES = ['centrifugal-pump', 'electric-motor', 'air-compressor'];
const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const numbers = (text: string) => text.split(',').map(Number);

const KS = numbers(env('EVAL_K', '2.5,1.5,0.5'));
/** Margins of the fixed-threshold baseline below the failure thresholds. */
const MARGINS = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];

/** What a run simulates (a replay takes the recording's). */
interface Settings {
  machines: number;
  days: number;
  seed: number;
  failing: number;
  lifeDays: [number, number];
  warmupS: number;
  forecastS: number;
  modelsDir: string;
  chunkS: number;
}

function settingsFromEnv(): Settings {
  return {
    machines: Number(env('EVAL_MACHINES', '36')),
    days: Number(env('EVAL_DAYS', '2.5')),
    seed: Number(env('EVAL_SEED', '11')),
    failing: Number(env('EVAL_FAILING', '0.5')),
    lifeDays: numbers(env('EVAL_LIFE_DAYS', '0.9,2')) as [number, number],
    warmupS: Number(env('EVAL_WARMUP_H', '2')) * HOUR_S,
    forecastS: Number(env('EVAL_FORECAST_MIN', '30')) * 60,
    modelsDir: env('EVAL_MODELS_DIR', path.join(__dirname, '..', 'models', 'default')),
    /** Simulated seconds per step of the loop (the twin's batches hold what arrived meanwhile). */
    chunkS: Number(env('EVAL_CHUNK_S', '600')),
  };
}

interface Method {
  name: string;
  /** Per machine. */
  raises: Raises[];
}

function rulesToRun(): NamedRule[] {
  const shipped = DEFAULT_RULES.filter((r) => r.enabled).map((rule) => ({
    rule,
    name:
      rule.detector === 'residual-cusum'
        ? `alerting: ${rule.id} (k ${rule.params.k})`
        : // one row for a rule made per asset type: default-drift-air-compressor → default-drift
          `alerting: ${rule.assetType ? rule.id.replace(`-${rule.assetType}`, '') : rule.id}`,
  }));
  const divergence = DEFAULT_RULES.find((r) => r.id === 'default-divergence')!;
  const variants = KS.filter((k) => k !== divergence.params.k).map((k) => ({
    rule: { ...divergence, id: `divergence-k${k}`, params: { ...divergence.params, k } },
    name: `alerting: default-divergence at k ${k}`,
  }));
  const file = process.env.EVAL_RULES;
  return [...shipped, ...variants, ...(file ? readExtraRules(file) : [])];
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

  /** Adds another run's sums (a pooled report). */
  merge(other: Calibration): void {
    for (const [key, o] of other.sums) {
      const e = this.sums.get(key) ?? { n: 0, s: 0, q: 0 };
      this.sums.set(key, { n: e.n + o.n, s: e.s + o.s, q: e.q + o.q });
    }
  }

  lines(): string[] {
    return [...this.sums].map(([key, { n, s, q }]) => {
      const mean = s / n;
      return `  ${key.padEnd(42)} mean z ${mean.toFixed(2).padStart(6)}  std z ${Math.sqrt(Math.max(q / n - mean * mean, 0)).toFixed(2)}  (${n})`;
    });
  }
}

/** The rules on every machine, fed the twin's messages after the warm-up (live or from a recording). */
class RuleScoring {
  readonly watches: (RuleWatch | null)[][];
  readonly calibration = new Calibration();
  /** EVAL_CALIBRATE: residual-mewma references fitted on the machines not designed to fail, per asset type. */
  readonly references = new Map<string, ReferenceFit>();
  private readonly index: Map<string, number>;

  constructor(
    private readonly machines: readonly TraceMachine[],
    readonly rules: readonly NamedRule[],
    private readonly sensorsOf: ((assetType: string) => string[]) | null = null,
  ) {
    // A rule scoped to an asset type or a machine watches only those (null: not this machine's rule).
    this.watches = machines.map((m) =>
      rules.map(({ rule }) => (RulesService.covers(rule, m) ? new RuleWatch(rule) : null)),
    );
    this.index = new Map(machines.map((m, i) => [m.id, i]));
  }

  observe(assetType: string, messages: readonly ScoredMessage[]): void {
    for (const msg of messages) {
      const i = this.index.get(msg.machineId);
      if (i === undefined) throw new Error(`a message for ${msg.machineId}, not a machine of the fleet`);
      const full: TwinMessage = { prediction: {}, ...msg };
      for (const w of this.watches[i]) w?.observe(full);
      if (this.machines[i].accelerated) continue;
      this.calibration.add(assetType, msg.residuals);
      if (!this.sensorsOf) continue;
      let fit = this.references.get(assetType);
      if (!fit) this.references.set(assetType, (fit = new ReferenceFit(this.sensorsOf(assetType))));
      fit.add(msg);
    }
  }

  /** The end of a step of the loop (seconds): the lifecycle's timers of machines still running. */
  tick(t: number, running: (i: number) => boolean): void {
    this.watches.forEach((ws, i) => {
      if (running(i)) for (const w of ws) w?.tick(t * 1000);
    });
  }
}

/**
 * EVAL_CALIBRATE on a replay (no model loaded): the sensors of an asset type's model, in its
 * normalisation's feature order.
 */
function modelSensors(modelsDir: string): (assetType: string) => string[] {
  return (assetType) => {
    const manifest = JSON.parse(readFileSync(path.join(modelsDir, assetType, 'model.json'), 'utf8')) as {
      normalisation?: { features?: string[] };
    };
    const features = manifest.normalisation?.features;
    if (!features?.length) throw new Error(`${modelsDir}/${assetType}/model.json names no sensors`);
    return features;
  };
}

/** EVAL_CALIBRATE=<file>: writes the fitted references as residual-mewma rule params, per asset type. */
function writeReferences(scoring: RuleScoring, file: string): void {
  const out = Object.fromEntries(
    [...scoring.references].map(([assetType, fit]) => [
      assetType,
      { samples: fit.samples, params: referenceToParams(fit.reference()) },
    ]),
  );
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote residual-mewma references for ${Object.keys(out).join(', ')} to ${file}`);
}

/** A run, live or replayed, as the report needs it. */
interface ScoredRun {
  machines: TraceMachine[];
  scoring: RuleScoring;
  truths: Truth[];
  baselines: Method[];
  stats: RunStats;
}

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

/** Simulates the fleet and runs the twin; scores the rules as it goes (and records, with EVAL_TRACE). */
async function live(settings: Settings, rules: readonly NamedRule[]): Promise<ScoredRun> {
  const started = Date.now();
  const { machines: count, seed, days, failing, lifeDays, warmupS, forecastS, modelsDir, chunkS } = settings;
  await initTensorBackend({ backend: env('CONTINUUM_TF_BACKEND', 'wasm') });
  const fleet = buildFleet({ machines: count, seed, failingFraction: failing, lifeDays });
  const machines = fleet.map((m) => ({ id: m.id, assetType: m.assetType, accelerated: m.accelerated }));
  const trace = process.env.EVAL_TRACE ? new TraceWriter(process.env.EVAL_TRACE) : null;
  await trace?.write({
    kind: 'fleet',
    format: TRACE_FORMAT,
    settings: { ...settings, modelsDir: path.relative(process.cwd(), modelsDir) || modelsDir },
    machines,
  });
  const runners = new Map<string, TwinRunner>();
  const thresholdSensors = new Map<string, ThresholdSensor[]>();
  for (const m of fleet) {
    if (runners.has(m.assetType)) continue;
    const sensors = m.model.sensors.filter((s) => s.failureThreshold) as ThresholdSensor[];
    thresholdSensors.set(m.assetType, sensors);
    const model = loadTwinModelFromDirectory(path.join(modelsDir, m.assetType), m.assetType);
    runners.set(
      m.assetType,
      new TwinRunner(model, 'eval', Object.fromEntries(sensors.map((s) => [s.name, s.failureThreshold]))),
    );
  }
  const scoring = new RuleScoring(
    machines,
    rules,
    process.env.EVAL_CALIBRATE ? (assetType) => runners.get(assetType)!.model.sensors : null,
  );
  const thresholdWatches = fleet.map((m) =>
    MARGINS.map((g) => new ThresholdWatch(thresholdSensors.get(m.assetType)!, g)),
  );
  const forecastRng = new Rng(`eval-alerts/${seed}`).fork('forecast');
  const rand = () => forecastRng.normal(0, 1);
  const horizonS = days * DAY_S;
  let lastForecast = -Infinity;
  let readings = 0;
  let forecasts = 0;
  let nextReport = 6 * HOUR_S;
  const spent = { simulator: 0, twin: 0, forecast: 0 };
  const clock = (part: keyof typeof spent, since: number) => (spent[part] += performance.now() - since);
  for (let t = chunkS; t <= horizonS; t += chunkS) {
    const byType = new Map<string, { machineIndex: number; reading: EvalReading }[]>();
    let since = performance.now();
    fleet.forEach((m, machineIndex) => {
      for (const s of m.advance(t)) {
        let list = byType.get(m.assetType);
        if (!list) byType.set(m.assetType, (list = []));
        list.push({ machineIndex, reading: { machineId: m.id, timeMs: s.t * 1000, values: s.values } });
      }
    });
    clock('simulator', since);
    const forecastDue = t >= warmupS && t - lastForecast >= forecastS;
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
      if (t <= warmupS) continue;
      const scored = messages.filter((msg) => msg.ts >= warmupS * 1000).map(scoredMessage);
      scoring.observe(assetType, scored);
      await trace?.write({ kind: 'messages', assetType, messages: scored });
      for (const { machineIndex, reading } of items) {
        if (reading.timeMs < warmupS * 1000) continue;
        for (const w of thresholdWatches[machineIndex]) w.observe(reading.timeMs, reading.values);
      }
    }
    if (t > warmupS) {
      const running = (i: number) => fleet[i].failedAt === null;
      scoring.tick(t, running);
      fleet.forEach((_, i) => {
        if (running(i)) for (const w of thresholdWatches[i]) w.tick(t * 1000);
      });
      await trace?.write({ kind: 'tick', t, stopped: fleet.flatMap((m, i) => (m.failedAt === null ? [] : [i])) });
    }
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
      censored: (m.accelerated && failedMs === null) || (failedMs !== null && failedMs <= warmupS * 1000),
      watchedMs: Math.max(0, end - warmupS * 1000),
    };
  });
  const baselines = MARGINS.map((g, j) => ({
    name:
      g === 0
        ? 'baseline: raw sensor beyond its failure threshold'
        : `baseline: raw sensor within ${Math.round(g * 100)}% of its failure threshold`,
    raises: thresholdWatches.map((ws) => ws[j].raises),
  }));
  const stats: RunStats = {
    readings,
    forecasts,
    nfe: [...runners.values()].reduce((a, r) => a + r.nfe, 0),
    seconds: (Date.now() - started) / 1000,
    spent,
  };
  await trace?.write({ kind: 'end', truths, baselines, stats });
  await trace?.close();
  if (trace) console.log(`recorded the run in ${trace.path} (EVAL_REPLAY=${trace.path} scores rules against it)`);
  for (const r of runners.values()) {
    r.dispose();
    disposeTwinModel(r.model);
  }
  return { machines, scoring, truths, baselines, stats };
}

/** Scores the rules against a recording (EVAL_REPLAY). */
async function replay(file: string, rules: readonly NamedRule[]): Promise<ScoredRun & { settings: Settings }> {
  let head: { settings: Settings; machines: TraceMachine[]; scoring: RuleScoring } | null = null;
  for await (const line of readTrace(file)) {
    if (line.kind === 'fleet') {
      const machines = line.machines;
      const settings = line.settings as unknown as Settings;
      const sensorsOf = process.env.EVAL_CALIBRATE ? modelSensors(settings.modelsDir) : null;
      head = { settings, machines, scoring: new RuleScoring(machines, rules, sensorsOf) };
    } else if (line.kind === 'messages') head!.scoring.observe(line.assetType, line.messages);
    else if (line.kind === 'tick') {
      const stopped = new Set(line.stopped);
      head!.scoring.tick(line.t, (i) => !stopped.has(i));
    } else return { ...head!, truths: line.truths, baselines: line.baselines, stats: line.stats };
  }
  throw new Error(`${file}: no 'end' line`);
}

function report(
  settings: Settings,
  machines: readonly TraceMachine[],
  scoring: Pick<RuleScoring, 'rules' | 'watches' | 'calibration'>,
  truths: readonly Truth[],
  baselines: readonly Method[],
  stats: RunStats,
): void {
  const { rules, watches } = scoring;
  const raisesOf = (ws: readonly (RuleWatch | null)[], j: number) => ws[j]?.raises ?? [];
  // Rules that share a name (one per asset type, say) make one row: each machine runs the one for it.
  const names = [...new Set(rules.map((r) => r.name))];
  const methods: Method[] = [
    {
      name: 'alerting: all default rules',
      raises: watches.map((ws) =>
        DEFAULT_RULES.filter((r) => r.enabled)
          .flatMap((_, j) => raisesOf(ws, j))
          .sort((a, b) => a - b),
      ),
    },
    ...names.map((name) => ({
      name,
      raises: watches.map((ws) =>
        rules.flatMap((r, j) => (r.name === name ? raisesOf(ws, j) : [])).sort((a, b) => a - b),
      ),
    })),
    ...baselines,
  ];
  const scores = methods.map((m) => score(m.name, truths, m.raises));

  const failed = truths.flatMap((t, i) => (t.failedAt !== null && !t.censored ? [i] : []));
  const healthy = truths.flatMap((t, i) => (t.failedAt === null && !t.censored ? [i] : []));
  const censored = truths.filter((t) => t.censored).length;
  const pf = failed
    .map((i) => (truths[i].failedAt! - (truths[i].onsetAt ?? truths[i].failedAt!)) / 3_600_000)
    .sort((a, b) => a - b);
  const healthyDays = healthy.reduce((a, i) => a + truths[i].watchedMs, 0) / 86_400_000;
  const { spent } = stats;
  console.log('');
  console.log(
    `fleet: ${machines.length} machines; ${failed.length} failed within ${settings.days} days (${ASSET_TYPES.map((a) => `${failed.filter((i) => machines[i].assetType === a).length} ${a}`).join(', ')}), ${healthy.length} did not (${fmt(healthyDays, 1)} machine-days watched), ${censored} censored (designed to fail, did not within the run)`,
  );
  console.log(
    `onset (wear moves a noiseless sensor by ${ONSET_SIGMA} σ at the operating point) to failure: median ${fmt(median(pf), 1)} h, range ${fmt(pf[0] ?? NaN, 1)}-${fmt(pf[pf.length - 1] ?? NaN, 1)} h`,
  );
  console.log(
    `${stats.readings} readings, ${stats.forecasts} forecasts, ${stats.nfe} NFE; ${stats.seconds.toFixed(0)} s (simulator ${(spent.simulator / 1000).toFixed(0)} s, twin updates ${(spent.twin / 1000).toFixed(0)} s, forecasts ${(spent.forecast / 1000).toFixed(0)} s)`,
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
    const parts = ASSET_TYPES.map((a) => {
      const pick = machines.flatMap((f, j) => (f.assetType === a && !truths[j].censored ? [j] : []));
      const s = score(
        a,
        pick.map((j) => truths[j]),
        pick.map((j) => m.raises[j]),
      );
      return `${a} ${s.tp}/${s.failures}`;
    });
    console.log(`  ${scores[i].name}: ${parts.join(', ')}`);
  }
  console.log('');
  console.log(
    'target (issue 11): higher recall at equal or better precision, and a longer mean lead time, than the baseline:',
  );
  const candidates = scores.filter((s) => !s.name.startsWith('baseline'));
  for (const b of scores.filter((s) => s.name.startsWith('baseline'))) {
    const meets = (a: (typeof scores)[number]) =>
      a.recall > b.recall && a.precision >= b.precision && (a.meanLeadH > b.meanLeadH || !Number.isFinite(b.meanLeadH));
    const met = candidates.filter(meets).map((s) => s.name);
    console.log(`  vs ${b.name}: ${met.length ? `met by ${met.join('; ')}` : 'not met'}`);
  }
  if (process.env.EVAL_DETAIL) detail(machines, truths, methods, process.env.EVAL_DETAIL);
  console.log('');
  console.log('twin calibration on machines that did not fail (after the warm-up):');
  console.log(scoring.calibration.lines().join('\n'));
}

/**
 * EVAL_DETAIL=<pattern>: per machine, the methods whose name contains the pattern (comma-separated
 * patterns; "all" for every method), their first alert relative to the onset and the failure. Shows
 * where a method's false positives and misses come from.
 */
function detail(
  machines: readonly TraceMachine[],
  truths: readonly Truth[],
  methods: readonly Method[],
  pattern: string,
): void {
  const wanted = pattern.split(',').map((p) => p.trim());
  const picked = methods.filter((m) => wanted.includes('all') || wanted.some((p) => m.name.includes(p)));
  const h = (ms: number) => `${ms >= 0 ? '+' : ''}${fmt(ms / 3_600_000, 1)} h`;
  console.log('');
  console.log(
    `per machine (EVAL_DETAIL=${pattern}): onset and first alerts in hours before the failure (failing machines) or since the warm-up (the others); "pre-onset" = a false positive`,
  );
  truths.forEach((t, i) => {
    const m = machines[i];
    const state = t.censored ? 'censored' : t.failedAt === null ? 'healthy' : 'failed';
    const firsts = picked.map((method) => {
      const r = method.raises[i];
      if (t.failedAt === null) return `${method.name}: ${r.length ? `${r.length} alert(s)` : '—'}`;
      const first = r.find((at) => at < t.failedAt!);
      if (first === undefined) return `${method.name}: missed`;
      const pre = t.onsetAt !== null && first < t.onsetAt ? ' pre-onset' : '';
      return `${method.name}: ${h(first - t.failedAt)}${pre}`;
    });
    const head =
      t.failedAt === null
        ? `${m.id} (${m.assetType}, ${state})`
        : `${m.id} (${m.assetType}, ${state}; onset ${t.onsetAt === null ? '?' : h(t.onsetAt - t.failedAt)})`;
    if (state !== 'healthy' || firsts.some((f) => !f.endsWith('—'))) console.log(`  ${head}: ${firsts.join('; ')}`);
  });
}

/**
 * EVAL_REPLAY=<a>,<b>,...: several recordings (fleets of different seeds) scored as one fleet — the
 * machines of all of them in one table, so that a method's figures rest on more failures than one
 * fleet has. The recordings must share their settings other than the seed.
 */
async function pooled(files: readonly string[], rules: readonly NamedRule[]): Promise<void> {
  if (process.env.EVAL_CALIBRATE) throw new Error('EVAL_CALIBRATE takes one recording, not several');
  const started = Date.now();
  const runs: (ScoredRun & { settings: Settings })[] = [];
  for (const file of files) runs.push(await replay(file, rules));
  const { seed: _seed, ...first } = runs[0].settings;
  for (const [i, run] of runs.entries()) {
    const { seed: _s, ...other } = run.settings;
    if (JSON.stringify(other) !== JSON.stringify(first))
      throw new Error(`${files[i]} was recorded with other settings than ${files[0]} (only the seed may differ)`);
  }
  const calibration = new Calibration();
  for (const run of runs) calibration.merge(run.scoring.calibration);
  const seeds = runs.map((r) => r.settings.seed);
  const s = runs[0].settings;
  console.log(
    `eval:alerts — pooling ${files.length} recordings (seeds ${seeds.join(', ')}): ${runs.reduce((a, r) => a + r.machines.length, 0)} machines, ${s.days} simulated days each, ${Math.round(s.failing * 100)}% with wear aimed at ${s.lifeDays.join('-')} days; twin models from ${s.modelsDir} (the replays took ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  report(
    { ...s, seed: NaN },
    runs.flatMap((r) => r.machines.map((m) => ({ ...m, id: `s${r.settings.seed}/${m.id}` }))),
    { rules, watches: runs.flatMap((r) => r.scoring.watches), calibration },
    runs.flatMap((r) => r.truths),
    runs[0].baselines.map((b, j) => ({ name: b.name, raises: runs.flatMap((r) => r.baselines[j].raises) })),
    {
      readings: runs.reduce((a, r) => a + r.stats.readings, 0),
      forecasts: runs.reduce((a, r) => a + r.stats.forecasts, 0),
      nfe: runs.reduce((a, r) => a + r.stats.nfe, 0),
      seconds: runs.reduce((a, r) => a + r.stats.seconds, 0),
      spent: {
        simulator: runs.reduce((a, r) => a + r.stats.spent.simulator, 0),
        twin: runs.reduce((a, r) => a + r.stats.spent.twin, 0),
        forecast: runs.reduce((a, r) => a + r.stats.spent.forecast, 0),
      },
    },
  );
}

async function main(): Promise<void> {
  const rules = rulesToRun();
  const replayFiles = process.env.EVAL_REPLAY?.split(',').filter(Boolean) ?? [];
  if (replayFiles.length > 1) return pooled(replayFiles, rules);
  const replayFile = replayFiles[0];
  if (replayFile) {
    const started = Date.now();
    const run = await replay(replayFile, rules);
    const s = run.settings;
    console.log(
      `eval:alerts — replaying ${replayFile}: ${s.machines} machines (seed ${s.seed}), ${s.days} simulated days, ${Math.round(s.failing * 100)}% with wear aimed at ${s.lifeDays.join('-')} days; twin models from ${s.modelsDir}; warm-up ${s.warmupS / HOUR_S} h; forecast every ${s.forecastS / 60} min (the recorded run's figures below; the replay took ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    report(run.settings, run.machines, run.scoring, run.truths, run.baselines, run.stats);
    if (process.env.EVAL_CALIBRATE) writeReferences(run.scoring, process.env.EVAL_CALIBRATE);
    return;
  }
  const settings = settingsFromEnv();
  const s = settings;
  console.log(
    `eval:alerts — ${s.machines} machines (seed ${s.seed}), ${s.days} simulated days, ${Math.round(s.failing * 100)}% with wear aimed at ${s.lifeDays.join('-')} days; twin models from ${path.relative(process.cwd(), s.modelsDir) || s.modelsDir}; warm-up ${s.warmupS / HOUR_S} h; forecast every ${s.forecastS / 60} min (horizon ${TWIN_FORECAST_DEFAULTS.horizonMs / 3_600_000} h, ${TWIN_FORECAST_DEFAULTS.samples} samples, ${TWIN_FORECAST_DEFAULTS.points} points)`,
  );
  const run = await live(settings, rules);
  report(settings, run.machines, run.scoring, run.truths, run.baselines, run.stats);
  if (process.env.EVAL_CALIBRATE) writeReferences(run.scoring, process.env.EVAL_CALIBRATE);
}

void (async () => {
  try {
    await main();
  } catch (err) {
    console.error((err as Error).stack ?? err);
    process.exit(1);
  }
})();
