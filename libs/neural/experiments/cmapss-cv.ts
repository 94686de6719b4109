/**
 * C-MAPSS FD001 cross-validation of the ODE-RNN RUL predictor (issue 6): K folds of whole training
 * engines; each fold trains on the rest (with its own 10% early-stopping split) and is scored on every
 * cut point (≥ 31 readings, as the shortest test engine) of its held-out engines, against the RUL capped
 * at 125, with regular cycles and with half of each window's history dropped at random.
 *
 *   node -r @swc-node/register libs/neural/experiments/cmapss-cv.ts [train_FD001.txt] \
 *     [--folds 5] [--seconds 240] [--window 30] [--batch 128]
 *
 * Writes libs/neural/experiments/results/cmapss-cv.json.
 */
import * as fs from 'node:fs';
import { initTensorBackend } from '@continuum/ode';
import { phm08Score, readCmapss, rmse } from '../src/cmapss/data';
import { cutWindows, predictSeries, trainRul } from '../src/cmapss/pipeline';
import { Rng } from '../src/random';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string, d: number) => (argv.includes(`--${k}`) ? Number(argv[argv.indexOf(`--${k}`) + 1]) : d);
  const file = argv[0] && !argv[0].startsWith('--') ? argv[0] : '../shared/datasets/cmapss/train_FD001.txt';
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const engines = readCmapss(file);
  const K = opt('folds', 5);
  const order = new Rng(2024).shuffle(engines.map((_, i) => i));
  const folds: unknown[] = [];
  const all = { reg: { p: [] as number[], y: [] as number[] }, drop: { p: [] as number[], y: [] as number[] } };
  for (let k = 0; k < K; k++) {
    const test = new Set(order.filter((_, i) => i % K === k));
    const trainE = engines.filter((_, i) => !test.has(i));
    const testE = engines.filter((_, i) => test.has(i));
    const p = trainRul(trainE, {
      seed: 10 + k,
      window: opt('window', 30),
      batchSize: opt('batch', 128),
      stepsPerEpoch: 20,
      epochs: 1000,
      maxSeconds: opt('seconds', 240),
      onProgress: (e) =>
        console.log(
          `fold ${k + 1}/${K} epoch ${e.epoch + 1} train RMSE ${e.parts.rmse.toFixed(2)} val RMSE ${(Math.sqrt(e.valLoss ?? NaN) * 125).toFixed(2)} NFE/batch ${e.nfeForward.toFixed(0)} ${e.elapsed.toFixed(0)} s${e.best ? ' *' : ''}`,
        ),
    });
    const res: Record<string, unknown> = { fold: k, units: testE.map((e) => e.unit), seconds: p.seconds };
    for (const [name, drop] of [
      ['reg', 0],
      ['drop', 0.5],
    ] as const) {
      const w = cutWindows(p, testE, drop, 99 + k);
      const pred = predictSeries(p, w.series);
      all[name].p.push(...pred);
      all[name].y.push(...w.truth);
      res[name] = { n: pred.length, rmse: rmse(pred, w.truth), phm08: phm08Score(pred, w.truth) };
    }
    console.log(`fold ${k + 1}: ${JSON.stringify(res)}`);
    folds.push(res);
    p.model.dispose();
  }
  const summary = {
    file,
    folds: K,
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
  fs.mkdirSync('libs/neural/experiments/results', { recursive: true });
  fs.writeFileSync('libs/neural/experiments/results/cmapss-cv.json', JSON.stringify(summary, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
