/**
 * C-MAPSS remaining-useful-life CLI (issue 6).
 *
 *   npm run cmapss -- train --train <file> --model <dir> [--seed n] [--seconds budget (900)] [--epochs max (1000)]
 *   npm run cmapss -- predict --model <dir> --test <file> [--drop <fraction> --seed <n>] --out <file>
 *
 * `predict` writes one line per test engine, in unit order: `<unit> <predicted RUL in cycles>`.
 */
import * as fs from 'node:fs';
import { initTensorBackend } from '@continuum/ode';
import { loadModel } from '../serialize';
import type { Normalisation } from '../serialize';
import { readCmapss } from './data';
import { predictRul, saveRul, trainRul } from './pipeline';
import type { RulOdeRnn } from './rul-model';

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
    console.error(`training on ${engines.length} engines from ${file}`);
    // The settings of the cross-validation in docs/neural.md (window 30, batch 128, 20 steps per epoch,
    // cosine LR over the time budget, 32 validation cuts per held-out engine).
    const p = trainRul(engines, {
      seed: Number(opts.seed ?? 1),
      maxSeconds: Number(opts.seconds ?? 900),
      epochs: Number(opts.epochs ?? 1000),
      window: 30,
      batchSize: 128,
      stepsPerEpoch: 20,
      schedule: 'time',
      valCuts: 32,
      onProgress: (e) =>
        console.error(
          `epoch ${e.epoch + 1}: train RMSE ${e.parts.rmse.toFixed(2)} val RMSE ${(Math.sqrt(e.valLoss ?? NaN) * 125).toFixed(2)} lr ${e.lr.toExponential(2)} NFE/batch ${e.nfeForward.toFixed(0)} ${e.seconds.toFixed(1)} s (total ${e.elapsed.toFixed(0)} s)${e.best ? ' *' : ''}`,
        ),
    });
    saveRul(p, dir, { trainingSeconds: p.seconds }, file);
    console.error(`saved ${dir} (${p.seconds.toFixed(0)} s)`);
  } else if (cmd === 'predict') {
    const { model, manifest } = loadModel<RulOdeRnn>(need(opts, 'model'));
    const engines = readCmapss(need(opts, 'test'));
    const rul = predictRul(
      { model, norm: manifest.normalisation as Normalisation, window: (manifest.extra?.window as number) ?? 50 },
      engines,
      Number(opts.drop ?? 0),
      Number(opts.seed ?? 0),
    );
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
