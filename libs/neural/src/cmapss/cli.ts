/**
 * C-MAPSS remaining-useful-life CLI (issue 6).
 *
 *   npm run cmapss -- train --train <file> --model <dir> [--seed n] [--seconds budget (900)] [--epochs max (1000)]
 *                           [--ensemble n (3)]
 *   npm run cmapss -- predict --model <dir> --test <file> [--drop <fraction> --seed <n>] --out <file>
 *
 * `train` trains `--ensemble` models from seeds seed, seed + 100, ..., each on an equal share of the
 * `--seconds` budget, and saves them as one ensemble (see ensemble.ts); `--ensemble 1` trains one model.
 * `predict` writes one line per test engine, in unit order: `<unit> <predicted RUL in cycles>` (the
 * ensemble's mean).
 */
import * as fs from 'node:fs';
import { initTensorBackend } from '@continuum/ode';
import { readCmapss } from './data';
import { disposeRulEnsemble, loadRulEnsemble, predictRulEnsemble, saveRulEnsemble } from './ensemble';
import { type RulPredictor, trainRul } from './pipeline';

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
  await initTensorBackend({ backend: opts.backend, log: (m) => console.error(m) });
  if (cmd === 'train') {
    const file = opts.train ?? '../shared/datasets/cmapss/train_FD001.txt';
    const dir = need(opts, 'model');
    const engines = readCmapss(file);
    const count = Number(opts.ensemble ?? 3);
    const seconds = Number(opts.seconds ?? 900);
    const seed = Number(opts.seed ?? 1);
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`--ensemble must be a positive integer, got '${opts.ensemble}'`);
    if (!(seconds > 0)) throw new Error(`--seconds must be positive, got '${opts.seconds}'`);
    console.error(
      `training ${count} model${count > 1 ? 's' : ''} on ${engines.length} engines from ${file}, ${(seconds / count).toFixed(0)} s each`,
    );
    const members: RulPredictor[] = [];
    let total = 0;
    for (let j = 0; j < count; j++) {
      const tag = count > 1 ? `model ${j + 1}/${count} ` : '';
      // The settings of the cross-validation in docs/neural.md (window 30, batch 128, 20 steps per epoch,
      // cosine LR over the time budget, 32 validation cuts per held-out engine).
      const p = trainRul(engines, {
        seed: seed + 100 * j,
        maxSeconds: seconds / count,
        epochs: Number(opts.epochs ?? 1000),
        window: 30,
        batchSize: 128,
        stepsPerEpoch: 20,
        schedule: 'time',
        valCuts: 32,
        onProgress: (e) =>
          console.error(
            `${tag}epoch ${e.epoch + 1}: train RMSE ${e.parts.rmse.toFixed(2)} val RMSE ${(Math.sqrt(e.valLoss ?? NaN) * 125).toFixed(2)} lr ${e.lr.toExponential(2)} NFE/batch ${e.nfeForward.toFixed(0)} ${e.seconds.toFixed(1)} s (total ${e.elapsed.toFixed(0)} s)${e.best ? ' *' : ''}`,
          ),
      });
      total += p.seconds;
      members.push(p);
    }
    saveRulEnsemble({ members }, dir, { trainingSeconds: total, ensemble: count }, file);
    console.error(`saved ${dir} (${total.toFixed(0)} s)`);
  } else if (cmd === 'predict') {
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
