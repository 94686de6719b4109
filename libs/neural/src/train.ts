import * as tf from '@tensorflow/tfjs';
import type { NeuralModel } from './model';
import { Rng } from './random';
import { saveModel, type SaveOptions } from './serialize';

/** Learning-rate schedule: constant, exponential decay per epoch, cosine to `minLr`, or a function of the epoch. */
export type LrSchedule =
  | { type: 'constant' }
  | { type: 'exponential'; decay: number }
  | { type: 'cosine'; minLr?: number }
  | ((epoch: number, baseLr: number) => number);

/** Loss of one batch: the tensor to minimise and scalar parts to report. */
export interface BatchLoss {
  loss: tf.Scalar;
  parts?: Record<string, number>;
}

/** Progress report after every epoch. */
export interface TrainProgress {
  epoch: number;
  /** Mean training loss and parts over the epoch's batches. */
  loss: number;
  parts: Record<string, number>;
  /** Validation loss (when a validation set is given). */
  valLoss?: number;
  lr: number;
  /** Mean forward / backward NFE per batch (backward null when not known: backprop). */
  nfeForward: number;
  nfeBackward: number | null;
  /** Seconds of this epoch and since the start. */
  seconds: number;
  elapsed: number;
  /** Whether this epoch improved the best validation loss. */
  best: boolean;
}

/** Options of {@link train}. */
export interface TrainOptions<B> {
  epochs: number;
  /** Base learning rate of Adam (default 1e-2). */
  lr?: number;
  schedule?: LrSchedule;
  /** Adam (Kingma & Ba 2015) moments (defaults 0.9, 0.999, 1e-8). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Clip the global gradient norm to this value (Pascanu et al. 2013); default none. */
  clipNorm?: number;
  /**
   * Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each step also shrinks every weight
   * matrix (rank ≥ 2; biases are left alone) by `lr × weightDecay` of itself. Default 0.
   */
  weightDecay?: number;
  /**
   * Weight averaging (Polyak & Juditsky 1992; an exponential moving average as TensorFlow's
   * ExponentialMovingAverage, decay min(averageDecay, (1 + step) / (10 + step))): validation,
   * checkpoints, the best weights and the weights left at the end are the average, not the last
   * iterate, whose noise at a high learning rate makes early stopping pick lucky epochs. Default none.
   */
  averageDecay?: number;
  /** Stop after this many epochs without validation improvement (default: never). */
  patience?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
  /** Builds the epoch's training batches (shuffle with the given generator for determinism). */
  batches: (epoch: number, rng: Rng) => B[];
  /** Loss of a batch (runs inside `tf.variableGrads`). */
  lossFn: (batch: B, epoch: number) => BatchLoss;
  /** Validation loss (runs without gradients); early stopping and best-weight restore use it. */
  validate?: () => number;
  /** Directory for checkpoints (the best model so far, and `last` every epoch). */
  checkpointDir?: string;
  checkpointMeta?: Omit<SaveOptions, 'metrics'>;
  onProgress?: (p: TrainProgress) => void;
  /** Stop after this many seconds (a budget; checked between batches). */
  maxSeconds?: number;
}

/** Result of {@link train}. */
export interface TrainResult {
  history: TrainProgress[];
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  seconds: number;
}

/**
 * Trains a model's variables with Adam, global-norm gradient clipping, a learning-rate schedule,
 * early stopping on a validation loss (restoring the best weights), deterministic batch order and
 * checkpoints, reporting progress after each epoch. Gradients come from `tf.variableGrads`, which
 * goes through `odeintAdjoint`'s custom gradient or backpropagates through `odeint`, as each model's
 * solver config says.
 */
export function train<B>(model: NeuralModel, options: TrainOptions<B>): TrainResult {
  const vars = model.variables();
  const lr0 = options.lr ?? 1e-2;
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = options.epsilon ?? 1e-8;
  const rng = new Rng(options.seed ?? 0);
  const m: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v)));
  const s: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v)));
  const avgDecay = options.averageDecay;
  if (avgDecay !== undefined && !(avgDecay >= 0 && avgDecay < 1))
    throw new Error(`averageDecay must be in [0, 1), got ${avgDecay}`);
  const avg: tf.Tensor[] | null = avgDecay !== undefined ? vars.map((v) => tf.keep(v.clone())) : null;
  /** Runs `fn` with the averaged weights in the variables (the iterate is put back after). */
  const withAverage = <T>(fn: () => T): T => {
    if (!avg) return fn();
    const iterate = vars.map((v) => tf.keep(v.clone()));
    vars.forEach((v, i) => v.assign(avg[i]));
    try {
      return fn();
    } finally {
      vars.forEach((v, i) => v.assign(iterate[i]));
      iterate.forEach((t) => t.dispose());
    }
  };
  let step = 0;
  const history: TrainProgress[] = [];
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: Float32Array[] | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  const start = Date.now();
  const lrAt = (epoch: number): number => {
    const sch = options.schedule ?? { type: 'constant' };
    if (typeof sch === 'function') return sch(epoch, lr0);
    if (sch.type === 'exponential') return lr0 * Math.pow(sch.decay, epoch);
    if (sch.type === 'cosine') {
      const min = sch.minLr ?? 0;
      return min + 0.5 * (lr0 - min) * (1 + Math.cos((Math.PI * epoch) / Math.max(options.epochs, 1)));
    }
    return lr0;
  };
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const t0 = Date.now();
      const lr = lrAt(epoch);
      const batches = options.batches(epoch, rng);
      let sum = 0;
      const parts: Record<string, number> = {};
      let nf = 0;
      let nb = 0;
      let nbKnown = false;
      let count = 0;
      for (const batch of batches) {
        let partsB: Record<string, number> | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const r = options.lossFn(batch, epoch);
          partsB = r.parts;
          return r.loss;
        }, vars);
        const nfe = model.nfe.take();
        nf += nfe.forward;
        if (nfe.backward !== null) {
          nb += nfe.backward;
          nbKnown = true;
        }
        sum += value.dataSync()[0];
        value.dispose();
        for (const [k, v] of Object.entries(partsB ?? {})) parts[k] = (parts[k] ?? 0) + v;
        step++;
        tf.tidy(() => {
          const gs = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
          let scale: tf.Scalar | number = 1;
          if (options.clipNorm !== undefined) {
            const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
            scale = tf.minimum(1, tf.div(options.clipNorm, tf.add(norm, 1e-12))) as tf.Scalar;
          }
          const c1 = 1 - Math.pow(b1, step);
          const c2 = 1 - Math.pow(b2, step);
          const wd = options.weightDecay ?? 0;
          vars.forEach((v, i) => {
            const g = tf.mul(gs[i], scale);
            const mi = tf.add(tf.mul(m[i], b1), tf.mul(g, 1 - b1));
            const si = tf.add(tf.mul(s[i], b2), tf.mul(tf.square(g), 1 - b2));
            const decayed = wd > 0 && v.rank >= 2 ? tf.mul(v, 1 - lr * wd) : v;
            v.assign(tf.sub(decayed, tf.mul(tf.div(tf.div(mi, c1), tf.add(tf.sqrt(tf.div(si, c2)), eps)), lr)));
            m[i].dispose();
            s[i].dispose();
            m[i] = tf.keep(mi);
            s[i] = tf.keep(si);
          });
          if (avg) {
            const d = Math.min(avgDecay!, (1 + step) / (10 + step));
            vars.forEach((v, i) => {
              const next = tf.keep(tf.add(tf.mul(avg[i], d), tf.mul(v, 1 - d)));
              avg[i].dispose();
              avg[i] = next;
            });
          }
        });
        Object.values(grads).forEach((g) => g.dispose());
        count++;
        if (options.maxSeconds !== undefined && (Date.now() - start) / 1000 > options.maxSeconds) break;
      }
      const loss = sum / Math.max(count, 1);
      // With weight averaging, what is validated, kept as the best and checkpointed is the average
      // (swapped into the variables once per epoch for all three).
      const { valLoss, improved } = withAverage(() => {
        const valLoss = options.validate ? tf.tidy(() => options.validate!()) : undefined;
        model.nfe.take();
        const improved = (valLoss ?? loss) < best;
        if (improved) {
          best = valLoss ?? loss;
          bestEpoch = epoch;
          bestWeights = model.params.snapshot();
          sinceBest = 0;
        } else sinceBest++;
        if (options.checkpointDir) {
          const meta = {
            ...options.checkpointMeta,
            metrics: { epoch, loss, ...(valLoss !== undefined ? { valLoss } : {}) },
          };
          saveModel(model, `${options.checkpointDir}/last`, meta);
          if (improved) saveModel(model, `${options.checkpointDir}/best`, meta);
        }
        return { valLoss, improved };
      });
      const p: TrainProgress = {
        epoch,
        loss,
        parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / Math.max(count, 1)])),
        valLoss,
        lr,
        nfeForward: nf / Math.max(count, 1),
        nfeBackward: nbKnown ? nb / Math.max(count, 1) : null,
        seconds: (Date.now() - t0) / 1000,
        elapsed: (Date.now() - start) / 1000,
        best: improved,
      };
      history.push(p);
      options.onProgress?.(p);
      if (options.patience !== undefined && sinceBest > options.patience) {
        stoppedEarly = true;
        break;
      }
      if (options.maxSeconds !== undefined && (Date.now() - start) / 1000 > options.maxSeconds) break;
    }
    if (avg && !(bestWeights && options.validate)) vars.forEach((v, i) => v.assign(avg[i]));
  } finally {
    m.forEach((t) => t.dispose());
    s.forEach((t) => t.dispose());
    avg?.forEach((t) => t.dispose());
  }
  if (bestWeights && options.validate) model.params.restore(bestWeights);
  return { history, bestEpoch, bestValLoss: best, stoppedEarly, seconds: (Date.now() - start) / 1000 };
}
