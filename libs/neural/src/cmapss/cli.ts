/**
 * C-MAPSS remaining-useful-life CLI (issue 6).
 *
 *   npm run cmapss -- train --train <file> --model <dir> [--seed n] [--seconds budget (300)] [--epochs max (1000)]
 *                           [--ensemble n (2)] [--workers processes (2)]
 *   npm run cmapss -- predict --model <dir> --test <file> [--drop <fraction> --seed <n>] --out <file>
 *
 * `train` trains `--ensemble` models from seeds seed, seed + 100, ..., `--workers` at a time in child
 * processes (one core each), within the `--seconds` wall-clock budget (2 members on 2 workers: one
 * round of at most 300 s; early stopping usually ends a member after 1.5-4 minutes; 4 members on 2
 * workers run two rounds), and saves them as one ensemble (see ensemble.ts); `--ensemble 1` trains one
 * model. The defaults are the cross-validated setup of docs/neural.md (session 8).
 * `predict` writes one line per test engine, in unit order: `<unit> <predicted RUL in cycles>` (the
 * ensemble's mean).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTensorBackend } from '@continuum/ode';
import { readCmapss } from './data';
import { disposeRulEnsemble, loadRulEnsemble, predictRulEnsemble, writeRulEnsembleManifest } from './ensemble';
import { memberSeconds, trainMembersInParallel } from './parallel';
import { RUL_TRAIN_SETTINGS } from './pipeline';

/** Members, budget and processes of `train` by default: see docs/neural.md (cross-validation). */
const DEFAULT_MEMBERS = 2;
const DEFAULT_SECONDS = 300;
const DEFAULT_WORKERS = Math.max(1, Math.min(2, os.availableParallelism()));

function args(argv: string[]): { cmd: string; opts: Record<string, string> } {
  const [cmd, ...rest] = argv;
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    if (!rest[i].startsWith('--')) throw new Error(`Unexpected argument '${rest[i]}'`);
    opts[rest[i].slice(2)] = rest[i + 1];
    i++;
  }
  return { cmd, opts };
}

function need(opts: Record<string, string>, key: string): string {
  const v = opts[key];
  if (v === undefined) throw new Error(`Missing --${key}`);
  return v;
}

async function main(): Promise<void> {
  const { cmd, opts } = args(process.argv.slice(2));
  if (cmd === 'train') {
    // Members train in child processes, each with its own TensorFlow.js backend (opts.backend).
    const file = opts.train ?? '../shared/datasets/cmapss/train_FD001.txt';
    const dir = need(opts, 'model');
    const engines = readCmapss(file);
    const count = Number(opts.ensemble ?? DEFAULT_MEMBERS);
    const seconds = Number(opts.seconds ?? DEFAULT_SECONDS);
    const workers = Number(opts.workers ?? DEFAULT_WORKERS);
    const seed = Number(opts.seed ?? 1);
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`--ensemble must be a positive integer, got '${opts.ensemble}'`);
    if (!(seconds > 0)) throw new Error(`--seconds must be positive, got '${opts.seconds}'`);
    if (!Number.isInteger(workers) || workers < 1)
      throw new Error(`--workers must be a positive integer, got '${opts.workers}'`);
    console.error(
      `training ${count} model${count > 1 ? 's' : ''} on ${engines.length} engines from ${file}, ` +
        `${Math.min(workers, count)} at a time, ${memberSeconds(seconds, count, workers).toFixed(0)} s each`,
    );
    const dirs = Array.from({ length: count }, (_, j) => path.join(dir, `member-${j + 1}`));
    const started = Date.now();
    const reports = await trainMembersInParallel({
      file,
      members: dirs.map((d, j) => ({ seed: seed + 100 * j, dir: d })),
      seconds,
      workers,
      backend: opts.backend,
      settings: { ...RUL_TRAIN_SETTINGS, epochs: Number(opts.epochs ?? RUL_TRAIN_SETTINGS.epochs) },
      onLine: (j, line) => console.error(`${count > 1 ? `model ${j + 1}/${count} ` : ''}${line}`),
    });
    writeRulEnsembleManifest(dir, dirs, {
      trainingSeconds: (Date.now() - started) / 1000,
      ensemble: count,
      workers,
      members: reports,
    });
    console.error(`saved ${dir} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } else if (cmd === 'predict') {
    await initTensorBackend({ backend: opts.backend, log: (m) => console.error(m) });
    const ensemble = loadRulEnsemble(need(opts, 'model'));
    const engines = readCmapss(need(opts, 'test'));
    const rul = predictRulEnsemble(ensemble, engines, Number(opts.drop ?? 0), Number(opts.seed ?? 0));
    disposeRulEnsemble(ensemble);
    const lines = engines.map((e, i) => `${e.unit} ${rul[i].toFixed(2)}`).join('\n') + '\n';
    fs.writeFileSync(need(opts, 'out'), lines);
    console.error(`wrote ${engines.length} predictions to ${opts.out}`);
  } else {
    throw new Error(`Unknown command '${cmd}'; expected 'train' or 'predict'`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
