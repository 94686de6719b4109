import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { AugmentedNeuralOde } from './augmented';
import { loadModel } from './serialize';
import { train, type TrainProgress } from './train';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

function trainWithSeed(seed: number, checkpointDir?: string) {
  const model = new AugmentedNeuralOde({
    inputDim: 1,
    augmentDim: 1,
    hidden: [8],
    outputDim: 1,
    solver: { method: 'rk4', stepSize: 0.25, gradient: 'backprop' },
    seed,
  });
  const xs = Array.from({ length: 32 }, (_, i) => -1 + (2 * i) / 31);
  const ys = xs.map((x) => 0.5 * x);
  const progress: TrainProgress[] = [];
  const result = train(model, {
    epochs: 15,
    lr: 0.05,
    schedule: { type: 'exponential', decay: 0.95 },
    clipNorm: 1,
    patience: 3,
    seed,
    batches: (_e, rng) => {
      const idx = rng.shuffle(xs.map((_, i) => i));
      return [idx.slice(0, 16), idx.slice(16)];
    },
    lossFn: (idx) => {
      const pred = model.forward(
        tf.tensor2d(
          idx.map((i) => xs[i]),
          [idx.length, 1],
        ),
      );
      const loss = tf.mean(
        tf.square(
          tf.sub(
            pred,
            tf.tensor2d(
              idx.map((i) => ys[i]),
              [idx.length, 1],
            ),
          ),
        ),
      ) as tf.Scalar;
      return { loss, parts: { mse: loss.dataSync()[0] } };
    },
    validate: () =>
      tf.mean(tf.square(tf.sub(model.forward(tf.tensor2d(xs, [32, 1])), tf.tensor2d(ys, [32, 1])))).dataSync()[0],
    checkpointDir,
    onProgress: (p) => progress.push(p),
  });
  return { model, result, progress };
}

describe('training loop', () => {
  it('reduces the loss, reports progress, is deterministic, checkpoints the best model', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-train-'));
    const a = trainWithSeed(3, dir);
    const b = trainWithSeed(3);
    expect(a.progress.length).toBeGreaterThan(3);
    const first = a.progress[0];
    expect(first.nfeForward).toBeGreaterThan(0);
    expect(first.parts.mse).toBeDefined();
    expect(first.seconds).toBeGreaterThanOrEqual(0);
    expect(a.result.bestValLoss).toBeLessThan(a.progress[0].loss);
    expect(b.progress.map((p) => p.loss)).toEqual(a.progress.map((p) => p.loss));
    expect(a.progress[1].lr).toBeCloseTo(0.05 * 0.95, 10);
    const best = loadModel(path.join(dir, 'best'));
    expect(best.manifest.metrics?.epoch).toBe(a.result.bestEpoch);
    // The best weights are restored at the end.
    const w = a.model.params.snapshot();
    best.model.params.snapshot().forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(w[i])));
  });
});
