/**
 * C-MAPSS FD001 cross-validation of the ODE-RNN RUL predictor (issue 6): K folds of whole training
 * engines; each fold trains on the rest (with its own 10% early-stopping split) and is scored on every
 * cut point (≥ 31 readings, as the shortest test engine) of its held-out engines, against the RUL capped
 * at 125, with regular cycles and with half of each window's history dropped at random.
 *
 *   node -r @swc-node/register libs/neural/experiments/cmapss-cv.ts [train_FD001.txt] \
 *     [--folds 5] [--seconds 300] [--window 30] [--batch 128] [--steps 20] [--lr 3e-3] \
 *     [--schedule epochs|time (time)] [--min-lr 2e-4] [--val-cuts 32] [--patience 15] \
 *     [--average <decay> (0.99; 0 = off)] [--weight-decay 0] [--input-noise 0] [--hidden 64] \
 *     [--ensemble 1] [--workers 2] [--only <fold 1..K>] [--span <cycles>] [--keep <dir>] [--out <file>]
 *   node -r @swc-node/register libs/neural/experiments/cmapss-cv.ts --models <dir> [--span <cycles>] [--out <file>]
 *   node -r @swc-node/register libs/neural/experiments/cmapss-cv.ts --combine a.json,b.json,... --out <file>
 *
 * Defaults are the settings of `npm run cmapss -- train` (RUL_TRAIN_SETTINGS). `--seconds` is the
 * training budget of each model; `--ensemble n` trains n models per fold (seeds differ), `--workers`
 * of them at once in child processes (one core each), and averages their predictions; `--only k` runs
 * fold k alone (for quick comparisons, or to run folds as separate processes); `--combine` merges
 * such single-fold results into the pooled totals (RMSE over all cuts = √(Σ n·RMSE² / Σ n), PHM08
 * per cut = Σ score / Σ n). `--keep <dir>` keeps each fold's members in `<dir>/fold-k/`; `--models <dir>`
 * scores such kept members again without training (e.g. with another `--span`: input windows of the
 * last `span` cycles thinned to `window` readings, see `windowIndices`).
 * Writes libs/neural/experiments/results/cmapss-cv.json (or `--out`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { phm08Score, readCmapss, rmse } from '../src/cmapss/data';
import { loadRulEnsemble, writeRulEnsembleManifest } from '../src/cmapss/ensemble';
import { trainMembersInParallel } from '../src/cmapss/parallel';
import { cutWindows, predictSeries, RUL_TRAIN_SETTINGS, type RulPredictor } from '../src/cmapss/pipeline';
import { packSeries, type Series } from '../src/sequences';
import { Rng } from '../src/random';

/** Predictions clipped at 0 only (the head's raw output × cap above the cap is kept). */
function zeroClipped(p: RulPredictor, series: Series[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < series.length; i += 512) {
    const seq = packSeries(series.slice(i, i + 512), p.norm.features.length + 1);
    const v = tf.tidy(() => p.model.forward(seq).dataSync());
    v.forEach((x) => out.push(Math.max(0, x * p.model.config.rulCap)));
  }
  p.model.nfe.take();
  return out;
}

interface FoldScore {
  n: number;
  rmse: number;
  phm08: number;
  rmseZeroClipOnly: number;
}

/** Pools per-fold scores of single-fold runs (`--only`) into the totals of a whole cross-validation. */
function combine(files: string[], out: string): void {
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>);
  const folds = runs.flatMap((r) => r.perFold as Record<string, unknown>[]);
  const pool = (name: 'reg' | 'drop') => {
    const s = folds.map((f) => f[name] as FoldScore);
    const n = s.reduce((a, x) => a + x.n, 0);
    return {
      cuts: n,
      rmse: Math.sqrt(s.reduce((a, x) => a + x.n * x.rmse ** 2, 0) / n),
      phm08PerCut: s.reduce((a, x) => a + x.phm08, 0) / n,
      rmseZeroClipOnly: Math.sqrt(s.reduce((a, x) => a + x.n * x.rmseZeroClipOnly ** 2, 0) / n),
    };
  };
  const { only: _only, perFold: _perFold, regular: _r, halfDropped: _h, wallSeconds: _w, ...common } = runs[0];
  const summary = {
    ...common,
    combinedFrom: files,
    foldsRun: folds.map((f) => (f.fold as number) + 1),
    regular: pool('reg'),
    halfDropped: pool('drop'),
    perFold: folds,
  };
  console.log(JSON.stringify({ regular: summary.regular, halfDropped: summary.halfDropped }));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--combine')) {
    const out = argv.includes('--out')
      ? argv[argv.indexOf('--out') + 1]
      : 'libs/neural/experiments/results/cmapss-cv.json';
    combine(argv[argv.indexOf('--combine') + 1].split(','), out);
    return;
  }
  const opt = (k: string, d: number) => (argv.includes(`--${k}`) ? Number(argv[argv.indexOf(`--${k}`) + 1]) : d);
  const file = argv[0] && !argv[0].startsWith('--') ? argv[0] : '../shared/datasets/cmapss/train_FD001.txt';
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const engines = readCmapss(file);
  const K = opt('folds', 5);
  const str = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
  const only = opt('only', 0);
  const ensemble = opt('ensemble', 1);
  const workers = opt('workers', 2);
  const hidden = opt('hidden', RUL_TRAIN_SETTINGS.model.hiddenDim);
  // Defaults: the settings of `npm run cmapss -- train` (RUL_TRAIN_SETTINGS).
  const D = RUL_TRAIN_SETTINGS;
  const keep = argv.includes('--keep') ? str('keep', '') : undefined;
  const models = argv.includes('--models') ? str('models', '') : undefined;
  // `--span 0`: no span. With `--models`, `--span` rescores the kept members with that span instead of their own.
  const spanArg = argv.includes('--span') ? opt('span', 0) : undefined;
  const trainSpan = spanArg === undefined ? D.span : spanArg > 0 ? spanArg : undefined;
  const scoring = (p: RulPredictor): RulPredictor => {
    if (!models || spanArg === undefined) return p;
    const { span: _own, ...rest } = p;
    return spanArg > 0 ? { ...rest, span: spanArg } : rest;
  };
  const settings = {
    window: opt('window', D.window),
    batchSize: opt('batch', D.batchSize),
    stepsPerEpoch: opt('steps', D.stepsPerEpoch),
    lr: opt('lr', 3e-3),
    schedule: str('schedule', D.schedule) as 'epochs' | 'time',
    minLr: opt('min-lr', 2e-4),
    valCuts: opt('val-cuts', D.valCuts),
    patience: opt('patience', D.patience),
    weightDecay: opt('weight-decay', 0),
    inputNoise: opt('input-noise', 0),
    averageDecay: opt('average', D.averageDecay),
    maxSeconds: opt('seconds', 300),
    ...(trainSpan !== undefined ? { span: trainSpan } : {}),
  };
  const out = str('out', 'libs/neural/experiments/results/cmapss-cv.json');
  const t0 = Date.now();
  const order = new Rng(2024).shuffle(engines.map((_, i) => i));
  const folds: unknown[] = [];
  const all = { reg: { p: [] as number[], y: [] as number[] }, drop: { p: [] as number[], y: [] as number[] } };
  for (let k = 0; k < K; k++) {
    if (only && k + 1 !== only) continue;
    const test = new Set(order.filter((_, i) => i % K === k));
    const trainE = engines.filter((_, i) => !test.has(i));
    const testE = engines.filter((_, i) => test.has(i));
    // Members train in child processes, `workers` at a time (as `npm run cmapss -- train` does);
    // `--models` loads the members a `--keep` run saved instead.
    const dir = models
      ? path.join(models, `fold-${k + 1}`)
      : keep
        ? path.join(keep, `fold-${k + 1}`)
        : fs.mkdtempSync(path.join(os.tmpdir(), `cmapss-cv-fold-${k + 1}-`));
    let reports: { seconds: number; epochs: number }[] = [];
    if (!models) {
      fs.mkdirSync(dir, { recursive: true });
      const memberDirs = Array.from({ length: ensemble }, (_, j) => path.join(dir, `member-${j + 1}`));
      reports = await trainMembersInParallel({
        file,
        units: trainE.map((e) => e.unit),
        members: memberDirs.map((d, j) => ({ seed: 10 + k + 100 * j, dir: d })),
        seconds: settings.maxSeconds * Math.ceil(ensemble / workers),
        workers,
        settings: {
          ...settings,
          epochs: 1000,
          model: { hiddenDim: hidden, odeHidden: [hidden], headHidden: [hidden] },
        },
        onLine: (j, line) => console.log(`fold ${k + 1}/${K} model ${j + 1}/${ensemble} ${line}`),
      });
      writeRulEnsembleManifest(dir, memberDirs, {});
    }
    const { members } = loadRulEnsemble(dir);
    if (!models && !keep) fs.rmSync(dir, { recursive: true, force: true });
    const res: Record<string, unknown> = {
      fold: k,
      units: testE.map((e) => e.unit),
      seconds: reports.map((r) => r.seconds),
      epochs: reports.map((r) => r.epochs),
    };
    for (const [name, drop] of [
      ['reg', 0],
      ['drop', 0.5],
    ] as const) {
      // Same cut windows (and drops) for every member: the windows depend on the normalisation only
      // through the values, and each member's normalisation is fitted on the same training engines.
      const scored = members.map(scoring);
      const cuts = scored.map((p) => cutWindows(p, testE, drop, 99 + k));
      const windows = cuts.map((c) => c.series);
      const preds = scored.map((p, j) => predictSeries(p, windows[j]));
      const w = cuts[0];
      const mean = (ps: number[][]) => ps[0].map((_, i) => ps.reduce((a, p) => a + p[i], 0) / ps.length);
      const pred = mean(preds);
      // For comparison: the same models clipped at 0 only (as before the [0, cap] clip).
      const unclipped = mean(members.map((p, j) => zeroClipped(p, windows[j])));
      all[name].p.push(...pred);
      all[name].y.push(...w.truth);
      res[name] = {
        n: pred.length,
        rmse: rmse(pred, w.truth),
        phm08: phm08Score(pred, w.truth),
        rmseZeroClipOnly: rmse(unclipped, w.truth),
        ...(ensemble > 1 ? { memberRmse: preds.map((p) => rmse(p, w.truth)) } : {}),
      };
    }
    console.log(`fold ${k + 1}: ${JSON.stringify(res)}`);
    folds.push(res);
    members.forEach((p) => p.model.dispose());
  }
  const summary = {
    file,
    folds: K,
    ...(only ? { only } : {}),
    ensemble,
    workers,
    hidden,
    // Rescoring (`--models`) trains nothing: the models' own settings are in their directories.
    settings: models ? 'as trained (see the kept models)' : settings,
    ...(models ? { models, scoredWithSpan: spanArg ?? 'own' } : {}),
    wallSeconds: (Date.now() - t0) / 1000,
    protocol:
      'whole-engine folds; every cut with >= 31 readings; truth = min(125, RUL); drop = 50% of the history removed at random, last kept',
    regular: { rmse: rmse(all.reg.p, all.reg.y), phm08PerCut: phm08Score(all.reg.p, all.reg.y) / all.reg.p.length },
    halfDropped: {
      rmse: rmse(all.drop.p, all.drop.y),
      phm08PerCut: phm08Score(all.drop.p, all.drop.y) / all.drop.p.length,
    },
    perFold: folds,
  };
  console.log(JSON.stringify({ regular: summary.regular, halfDropped: summary.halfDropped }));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
