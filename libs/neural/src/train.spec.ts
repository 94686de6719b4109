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

/** 0 x the sum of every weight: a loss connected to the variables whose gradients are all zero. */
function zeroGradientLoss(model: AugmentedNeuralOde): tf.Scalar {
  return tf.mul(0, tf.addN(model.variables().map((v) => tf.sum(v)))) as tf.Scalar;
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

  it('decays weight matrices, not biases, by lr x weightDecay per step (AdamW)', () => {
    const make = () =>
      new AugmentedNeuralOde({
        inputDim: 1,
        augmentDim: 1,
        hidden: [4],
        outputDim: 1,
        solver: { method: 'rk4', stepSize: 0.5, gradient: 'backprop' },
        seed: 5,
      });
    // A loss with zero gradients (0 x the weights): Adam's own update is 0, so what moves is the
    // decay alone: after k steps a matrix is (1 - lr wd)^k of itself, a bias unchanged.
    const run = (weightDecay: number | undefined) => {
      const model = make();
      const before = model.params.snapshot();
      train(model, {
        epochs: 1,
        lr: 0.1,
        weightDecay,
        batches: () => [0, 1, 2],
        lossFn: () => ({ loss: zeroGradientLoss(model), parts: {} }),
      });
      return { model, before, after: model.params.snapshot() };
    };
    const { model, before, after } = run(0.5);
    const factor = (1 - 0.1 * 0.5) ** 3;
    let matrices = 0;
    let biases = 0;
    model.variables().forEach((v, i) => {
      const expected = v.rank >= 2 ? Array.from(before[i], (x) => x * factor) : Array.from(before[i]);
      Array.from(after[i]).forEach((x, j) => expect(x).toBeCloseTo(expected[j], 6));
      if (v.rank >= 2) matrices++;
      else biases++;
    });
    expect(matrices).toBeGreaterThan(0);
    expect(biases).toBeGreaterThan(0);
    // Without the option nothing moves.
    const none = run(undefined);
    none.after.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(none.before[i])));
  });

  it('validates, keeps and leaves the moving average of the weights with averageDecay', () => {
    const model = new AugmentedNeuralOde({
      inputDim: 1,
      augmentDim: 1,
      hidden: [4],
      outputDim: 1,
      solver: { method: 'rk4', stepSize: 0.5, gradient: 'backprop' },
      seed: 6,
    });
    const before = model.params.snapshot();
    const matrix = model.variables().findIndex((v) => v.rank >= 2);
    // Zero gradients and weight decay: after step k a matrix is f^k w0 (f = 1 - lr wd), so the
    // average a_k = d_k a_(k-1) + (1 - d_k) f^k w0 (a_0 = w0, d_k = min(D, (1 + k) / (10 + k))) is
    // a known multiple of w0.
    const lr = 0.1;
    const wd = 0.5;
    const D = 0.6;
    const f = 1 - lr * wd;
    const expected: number[] = [];
    let a = 1;
    for (let k = 1; k <= 6; k++) {
      const d = Math.min(D, (1 + k) / (10 + k));
      a = d * a + (1 - d) * f ** k;
      if (k % 3 === 0) expected.push(a);
    }
    const seen: number[] = [];
    train(model, {
      epochs: 2,
      lr,
      weightDecay: wd,
      averageDecay: D,
      batches: () => [0, 1, 2],
      lossFn: () => ({ loss: zeroGradientLoss(model), parts: {} }),
      validate: () => {
        seen.push(model.variables()[matrix].dataSync()[0] / before[matrix][0]);
        return -seen.length; // every epoch is the best: the last average is kept
      },
    });
    expect(seen).toHaveLength(2);
    seen.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 5));
    // The average differs from the last iterate (otherwise this proves nothing) and is what is left.
    expect(Math.abs(expected[1] - f ** 6)).toBeGreaterThan(1e-3);
    const after = model.params.snapshot();
    Array.from(after[matrix]).forEach((x, j) => expect(x).toBeCloseTo(before[matrix][j] * expected[1], 5));
    expect(() =>
      train(model, {
        epochs: 1,
        averageDecay: 1,
        batches: () => [],
        lossFn: () => ({ loss: tf.scalar(0), parts: {} }),
      }),
    ).toThrow(/averageDecay must be in \[0, 1\)/);
  });
});
