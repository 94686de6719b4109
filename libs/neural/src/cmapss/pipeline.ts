import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random';
import { packSeries, type Series } from '../sequences';
import { type Normalisation, saveModel } from '../serialize';
import { train, type TrainProgress } from '../train';
import { dropReadings, type Engine, fitNormalisation, type Prepared, prepare, rulTarget } from './data';
import { RulOdeRnn, type RulModelConfig } from './rul-model';

/** Settings of {@link trainRul} (defaults are the ones behind docs/neural.md's figures). */
export interface RulTrainOptions {
  seed?: number;
  /** Readings per input window (the last `window` readings before the prediction time; default 50). */
  window?: number;
  /**
   * History an input window covers, in cycles: the readings of the last `span` cycles thinned evenly to
   * `window` when there are more (see {@link windowIndices}; default none: the last `window` readings).
   * Saved with the model and used by its predictions.
   */
  span?: number;
  /** RUL cap of the piecewise-linear target (default 125). */
  rulCap?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  batchSize?: number;
  lr?: number;
  /** Fraction of training engines held out for early stopping (default 0.1). */
  valFraction?: number;
  /** Time budget in seconds (default 900). */
  maxSeconds?: number;
  /**
   * Learning-rate schedule: 'epochs' (default) — cosine over `epochs` to 2e-4; 'time' — cosine over the
   * time budget (elapsed / maxSeconds), so that a budget-bound run still anneals (with a large
   * `epochs` the epoch-based cosine barely decays before the budget runs out).
   */
  schedule?: 'epochs' | 'time';
  /** Minimum learning rate of the cosine schedule (default 2e-4). */
  minLr?: number;
  /** Validation cuts per held-out engine (default 8; half regular, half with 50% dropped). */
  valCuts?: number;
  /** Epochs without a better validation loss before training stops (default 15; best weights are kept). */
  patience?: number;
  /** Decoupled weight decay of Adam's updates (AdamW; default 0). */
  weightDecay?: number;
  /** Weight averaging: decay per step of the moving average that is validated and kept (default none). */
  averageDecay?: number;
  /** Standard deviation of Gaussian noise added to the z-scored sensors of training examples (default 0). */
  inputNoise?: number;
  model?: Partial<RulModelConfig>;
  onProgress?: (p: TrainProgress) => void;
}

/**
 * The training settings of `npm run cmapss -- train` and of the cross-validation in docs/neural.md:
 * windows of 30 readings spread over the last 60 cycles (`span`), batch 128, 20 steps per epoch, cosine
 * LR over each model's time budget, 32 validation cuts per held-out engine, early stopping after 15
 * epochs without a better validation score, and weight averaging (decay 0.99 per step: the averaged
 * weights are validated and kept), hidden size 64 (docs/neural.md — session 7: pooled cross-validated
 * RMSE 13.75 → 12.74 with averaging, 12.49 with 64; session 8: the 60-cycle span, 12.56 → 11.20 on the
 * same models, 10.96 regular / 11.01 half dropped when trained with it).
 */
export const RUL_TRAIN_SETTINGS = {
  window: 30,
  batchSize: 128,
  stepsPerEpoch: 20,
  schedule: 'time' as const,
  valCuts: 32,
  patience: 15,
  averageDecay: 0.99,
  span: 60,
  epochs: 1000,
  model: { hiddenDim: 64, odeHidden: [64], headHidden: [64] },
} satisfies RulTrainOptions;

/** A trained predictor with its normalisation. */
export interface RulPredictor {
  model: RulOdeRnn;
  norm: Normalisation;
  window: number;
  /** Input windows cover the last `span` cycles (thinned to `window` readings), when set. */
  span?: number;
}

/**
 * The readings an input window reads, from the kept ones (`keep`, increasing indices into the engine):
 * the last `window` of them; or, with a `span` in cycles, the kept readings of the last `span` cycles
 * thinned evenly to `window` (the last one always kept) when there are more than `window` of them —
 * so that a regularly sampled engine and one with readings missing both show the model about `span`
 * cycles of history.
 */
export function windowIndices(keep: number[], cycles: ArrayLike<number>, window: number, span?: number): number[] {
  if (span === undefined || keep.length <= window) return keep.slice(-window);
  const last = cycles[keep[keep.length - 1]];
  let from = keep.length - 1;
  while (from > 0 && cycles[keep[from - 1]] > last - span) from--;
  const n = keep.length - from;
  if (n <= window) return keep.slice(-window);
  // `window` indices evenly spread over the n readings of the span, the newest included.
  return Array.from({ length: window }, (_, j) => keep[from + Math.round(((n - 1) * j) / (window - 1))]);
}

/** One input window: readings `keep` (indices into the engine) → those {@link windowIndices} selects. */
function windowSeries(p: Prepared, keep: number[], window: number, span?: number): Series {
  const idx = windowIndices(keep, p.cycles, window, span);
  const values = new Float32Array(idx.length * p.F);
  idx.forEach((i, k) => values.set(p.values.subarray(i * p.F, (i + 1) * p.F), k * p.F));
  return { times: idx.map((i) => p.times[i]), values };
}

/**
 * A training example: the engine cut at reading `end`, with a random fraction of earlier readings
 * dropped (augmentation for irregular sampling), target RUL / cap.
 */
function example(
  p: Prepared,
  end: number,
  drop: number,
  rng: Rng,
  { window, span, cap, noise = 0 }: { window: number; span?: number; cap: number; noise?: number },
) {
  const keep = dropReadings(end + 1, drop, rng);
  const total = p.cycles[p.cycles.length - 1];
  const series = windowSeries(p, keep, window, span);
  const values = series.values as Float32Array; // windowSeries builds a fresh copy
  if (noise > 0)
    // Sensors only: the last feature is the cycle clock.
    for (let i = 0; i < values.length; i++) if (i % p.F !== p.F - 1) values[i] += noise * rng.normal();
  return { series, target: rulTarget(total, p.cycles[end], cap) / cap };
}

/**
 * Trains an ODE-RNN RUL regressor on run-to-failure engines (C-MAPSS training files): z-score
 * normalisation of the non-constant sensors, piecewise-linear target capped at `rulCap`, random cut
 * points and random reading drops (half of the examples lose 0-60% of their readings), Adam with a
 * cosine schedule, clipping and early stopping on held-out engines.
 */
export function trainRul(engines: Engine[], options: RulTrainOptions = {}): RulPredictor & { seconds: number } {
  const seed = options.seed ?? 1;
  const window = options.window ?? 50;
  const span = options.span;
  if (span !== undefined && !(span > 0)) throw new Error(`span must be a positive number of cycles, got ${span}`);
  const cap = options.rulCap ?? 125;
  const rng = new Rng(seed);
  const order = rng.shuffle(engines.map((_, i) => i));
  const nVal = Math.max(1, Math.round((options.valFraction ?? 0.1) * engines.length));
  const valIdx = new Set(order.slice(0, nVal));
  const trainEngines = engines.filter((_, i) => !valIdx.has(i));
  const valEngines = engines.filter((_, i) => valIdx.has(i));
  const norm = fitNormalisation(trainEngines, cap);
  const prepTrain = trainEngines.map((e) => prepare(e, norm));
  const prepVal = valEngines.map((e) => prepare(e, norm));
  const F = prepTrain[0].F;
  const model = new RulOdeRnn({
    inputDim: F,
    hiddenDim: 32,
    odeHidden: [32],
    headHidden: [32],
    activation: 'tanh',
    rulCap: cap,
    solver: { method: 'euler', gradient: 'backprop' },
    seed,
    ...options.model,
  });
  const batchSize = options.batchSize ?? 64;
  const steps = options.stepsPerEpoch ?? 40;
  // A fixed validation set: 8 cuts per engine, regular and with half the readings dropped.
  const vrng = new Rng(seed + 17);
  const valEx = prepVal.flatMap((p) =>
    Array.from({ length: options.valCuts ?? 8 }, (_, k) => {
      const end = Math.min(p.cycles.length - 1, 30 + vrng.int(Math.max(1, p.cycles.length - 30)));
      return example(p, end, k % 2 === 0 ? 0 : 0.5, vrng, { window, span, cap });
    }),
  );
  const valSeq = packSeries(
    valEx.map((e) => e.series),
    F,
  );
  const valY = Float32Array.from(valEx.map((e) => e.target));
  const maxSeconds = options.maxSeconds ?? 900;
  const minLr = options.minLr ?? 2e-4;
  const started = Date.now();
  const res = train(model, {
    epochs: options.epochs ?? 60,
    lr: options.lr ?? 3e-3,
    schedule:
      options.schedule === 'time'
        ? (_epoch, lr0) => {
            const f = Math.min(1, (Date.now() - started) / 1000 / maxSeconds);
            return minLr + 0.5 * (lr0 - minLr) * (1 + Math.cos(Math.PI * f));
          }
        : { type: 'cosine', minLr },
    clipNorm: 1,
    weightDecay: options.weightDecay,
    averageDecay: options.averageDecay,
    patience: options.patience ?? 15,
    seed,
    maxSeconds,
    batches: (_epoch, r) =>
      Array.from({ length: steps }, () => {
        const ex = Array.from({ length: batchSize }, () => {
          const p = prepTrain[r.int(prepTrain.length)];
          const n = p.cycles.length;
          const lo = Math.min(n - 1, 15);
          const end = lo + r.int(n - lo);
          const drop = r.uniform() < 0.5 ? 0.6 * r.uniform() : 0;
          return example(p, end, drop, r, { window, span, cap, noise: options.inputNoise });
        });
        return {
          seq: packSeries(
            ex.map((e) => e.series),
            F,
          ),
          y: Float32Array.from(ex.map((e) => e.target)),
        };
      }),
    lossFn: (b) => {
      const pred = model.forward(b.seq);
      const loss = tf.mean(tf.square(tf.sub(pred, tf.tensor1d(b.y)))) as tf.Scalar;
      return { loss, parts: { rmse: Math.sqrt(loss.dataSync()[0]) * cap } };
    },
    validate: () => {
      const pred = model.forward(valSeq);
      return tf.mean(tf.square(tf.sub(pred, tf.tensor1d(valY)))).dataSync()[0];
    },
    onProgress: options.onProgress,
  });
  return { model, norm, window, ...(span !== undefined ? { span } : {}), seconds: res.seconds };
}

/**
 * Predicts the RUL (cycles) at the last reading of each engine, after dropping `drop` of its readings
 * at random (keeping the last).
 */
export function predictRul(predictor: RulPredictor, engines: Engine[], drop = 0, seed = 0): number[] {
  const rng = new Rng(seed);
  const series = engines.map((e) => {
    const p = prepare(e, predictor.norm);
    return windowSeries(p, dropReadings(p.cycles.length, drop, rng), predictor.window, predictor.span);
  });
  return predictSeries(predictor, series);
}

/** Batched prediction for prepared windows (RUL in cycles, clipped to [0, rulCap]). */
export function predictSeries(predictor: RulPredictor, series: Series[], batch = 512): number[] {
  const out: number[] = [];
  const F = predictor.norm.features.length + 1;
  for (let i = 0; i < series.length; i += batch) {
    const seq = packSeries(series.slice(i, i + batch), F);
    predictor.model.predictCycles(seq).forEach((x) => out.push(x));
  }
  predictor.model.nfe.take();
  return out;
}

/** Cut-point windows of held-out engines, for cross-validation: every cut from reading `minLen` on. */
export function cutWindows(
  predictor: RulPredictor,
  engines: Engine[],
  drop: number,
  seed: number,
  minLen = 31,
  span = predictor.span,
): { series: Series[]; truth: number[]; rulUncapped: number[] } {
  const rng = new Rng(seed);
  const series: Series[] = [];
  const truth: number[] = [];
  const rulUncapped: number[] = [];
  const cap = predictor.model.config.rulCap;
  for (const e of engines) {
    const p = prepare(e, predictor.norm);
    const total = p.cycles[p.cycles.length - 1];
    for (let end = minLen - 1; end < p.cycles.length; end++) {
      series.push(windowSeries(p, dropReadings(end + 1, drop, rng), predictor.window, span));
      truth.push(rulTarget(total, p.cycles[end], cap));
      rulUncapped.push(total - p.cycles[end]);
    }
  }
  return { series, truth, rulUncapped };
}

/** Saves a predictor (model + normalisation + window) with metrics and a training-data description. */
export function saveRul(predictor: RulPredictor, dir: string, metrics: Record<string, unknown>, source: string): void {
  saveModel(predictor.model, dir, {
    normalisation: predictor.norm,
    metrics,
    trainingData: {
      source,
      description:
        'NASA C-MAPSS run-to-failure trajectories (Saxena et al. 2008); piecewise-linear RUL target capped at rulCap',
    },
    extra: { window: predictor.window, ...(predictor.span !== undefined ? { span: predictor.span } : {}) },
  });
}
