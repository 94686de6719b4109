import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, type NeuralModel, type Sequences } from '@continuum/neural';

/** One epoch's report. */
export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  parts: Record<string, number>;
  validation: Record<string, number>;
  nfeForward: number;
  nfeBackward: number | null;
  elapsedSeconds: number;
  etaSeconds: number | null;
  best: boolean;
}

/** What the loop needs. */
export interface TrainerOptions {
  epochs: number;
  lr: number;
  clipNorm: number;
  patience: number;
  seed: number;
  batches: (epoch: number, rng: Rng) => Sequences[];
  loss: (seq: Sequences) => { loss: tf.Scalar; parts: Record<string, number> };
  /** Validation metrics; `valLoss` drives early stopping and best-weight selection. */
  validate: () => Record<string, number> & { valLoss: number };
  /** Checkpoint directory (weights, Adam moments, epoch); resumed from when it holds one. */
  checkpointDir?: string;
  /** Called after every epoch (heartbeat, progress event); return false to stop (cancelled). */
  onEpoch?: (r: EpochReport) => Promise<boolean> | boolean;
  /** Called between batches so the event loop can run; return false to stop. */
  tick?: () => Promise<boolean> | boolean;
  maxSeconds?: number;
}

export interface TrainerResult {
  history: EpochReport[];
  bestEpoch: number;
  best: Record<string, number>;
  stopped: 'done' | 'early' | 'budget' | 'cancelled';
  resumedFrom: number | null;
}

interface CheckpointMeta {
  epoch: number;
  step: number;
  bestEpoch: number;
  best: Record<string, number> | null;
  sinceBest: number;
  elapsed: number;
  rngState: number;
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/** Writes float32 arrays to one file (atomically, by rename). */
function writeArrays(file: string, arrays: Float32Array[]): void {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const buf = Buffer.alloc(total * 4);
  let o = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++, o += 4) buf.writeFloatLE(a[i], o);
  fs.writeFileSync(`${file}.tmp`, buf);
  fs.renameSync(`${file}.tmp`, file);
}

function readArrays(file: string, sizes: number[]): Float32Array[] {
  const buf = fs.readFileSync(file);
  let o = 0;
  return sizes.map((n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, o += 4) a[i] = buf.readFloatLE(o);
    return a;
  });
}

/**
 * The training service's loop: Adam (Kingma & Ba 2015) with global-norm clipping over a model's
 * variables, gradients from `tf.variableGrads` (through `odeintAdjoint` or backprop, as the model's
 * solver config says), validation and early stopping with best-weight restore, as `train` of
 * `@continuum/neural` — but asynchronous (it yields between batches so heartbeats and cancellation
 * run) and resumable: after every epoch it checkpoints the weights, the best weights, Adam's moments
 * and its position, and a new loop on the same directory continues from there.
 */
export async function trainResumable(model: NeuralModel, o: TrainerOptions): Promise<TrainerResult> {
  const vars = model.variables();
  const sizes = vars.map((v) => v.size);
  const m: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v)));
  const s: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v)));
  let meta: CheckpointMeta = {
    epoch: -1,
    step: 0,
    bestEpoch: -1,
    best: null,
    sinceBest: 0,
    elapsed: 0,
    rngState: o.seed,
  };
  let bestWeights: Float32Array[] | null = null;
  let resumedFrom: number | null = null;
  const dir = o.checkpointDir;
  const setAll = (ts: tf.Variable[] | tf.Tensor[], arrays: Float32Array[]) =>
    ts.forEach((t, i) => {
      if (t instanceof tf.Variable) t.assign(tf.tensor(arrays[i], t.shape));
      else {
        const n = tf.keep(tf.tensor(arrays[i], t.shape));
        t.dispose();
        (ts as tf.Tensor[])[i] = n;
      }
    });
  if (dir && fs.existsSync(path.join(dir, 'meta.json'))) {
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as CheckpointMeta;
    const all = readArrays(path.join(dir, 'state.bin'), [...sizes, ...sizes, ...sizes]);
    setAll(vars, all.slice(0, vars.length));
    setAll(m, all.slice(vars.length, 2 * vars.length));
    setAll(s, all.slice(2 * vars.length));
    if (fs.existsSync(path.join(dir, 'best.bin')))
      bestWeights = readArrays(
        path.join(dir, 'best.bin'),
        model.params.list().map((v) => v.size),
      );
    resumedFrom = meta.epoch + 1;
  }
  const history: EpochReport[] = [];
  const start = Date.now() - meta.elapsed * 1000;
  const elapsed = () => (Date.now() - start) / 1000;
  let stopped: TrainerResult['stopped'] = 'done';
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  try {
    outer: for (let epoch = meta.epoch + 1; epoch < o.epochs; epoch++) {
      const rng = new Rng(o.seed * 1000 + epoch);
      const batches = o.batches(epoch, rng);
      let sum = 0;
      let count = 0;
      let nf = 0;
      let nb = 0;
      let nbKnown = false;
      const parts: Record<string, number> = {};
      for (const batch of batches) {
        let p: Record<string, number> = {};
        const { value, grads } = tf.variableGrads(() => {
          const r = o.loss(batch);
          p = r.parts;
          return r.loss;
        }, vars);
        const nfe = model.nfe.take();
        nf += nfe.forward;
        if (nfe.backward !== null) {
          nb += nfe.backward;
          nbKnown = true;
        }
        const lossValue = value.dataSync()[0];
        value.dispose();
        if (!Number.isFinite(lossValue)) {
          Object.values(grads).forEach((g) => g.dispose());
          throw new Error(`the training loss is ${lossValue} at epoch ${epoch}: lower lr or the solver tolerances`);
        }
        sum += lossValue;
        for (const [k, v] of Object.entries(p)) parts[k] = (parts[k] ?? 0) + v;
        meta.step++;
        const step = meta.step;
        tf.tidy(() => {
          const gs = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
          const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
          const scale = tf.minimum(1, tf.div(o.clipNorm, tf.add(norm, 1e-12)));
          const c1 = 1 - Math.pow(b1, step);
          const c2 = 1 - Math.pow(b2, step);
          vars.forEach((v, i) => {
            const g = tf.mul(gs[i], scale);
            const mi = tf.add(tf.mul(m[i], b1), tf.mul(g, 1 - b1));
            const si = tf.add(tf.mul(s[i], b2), tf.mul(tf.square(g), 1 - b2));
            v.assign(tf.sub(v, tf.mul(tf.div(tf.div(mi, c1), tf.add(tf.sqrt(tf.div(si, c2)), eps)), o.lr)));
            m[i].dispose();
            s[i].dispose();
            m[i] = tf.keep(mi);
            s[i] = tf.keep(si);
          });
        });
        Object.values(grads).forEach((g) => g.dispose());
        count++;
        await yieldLoop();
        if (o.tick && !(await o.tick())) {
          stopped = 'cancelled';
          break outer;
        }
        if (o.maxSeconds !== undefined && elapsed() > o.maxSeconds) break;
      }
      const validation = tf.tidy(() => o.validate());
      model.nfe.take();
      const improved = meta.best === null || validation.valLoss < meta.best.valLoss;
      if (improved) {
        meta.best = validation;
        meta.bestEpoch = epoch;
        meta.sinceBest = 0;
        bestWeights = model.params.snapshot();
      } else meta.sinceBest++;
      meta.epoch = epoch;
      meta.elapsed = elapsed();
      const done = epoch + 1 - (resumedFrom ?? 0);
      const report: EpochReport = {
        epoch,
        epochs: o.epochs,
        loss: sum / Math.max(count, 1),
        parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / Math.max(count, 1)])),
        validation,
        nfeForward: nf / Math.max(count, 1),
        nfeBackward: nbKnown ? nb / Math.max(count, 1) : null,
        elapsedSeconds: meta.elapsed,
        etaSeconds: done > 0 ? ((Date.now() - start - 0) / 1000 / (epoch + 1)) * (o.epochs - epoch - 1) : null,
        best: improved,
      };
      history.push(report);
      if (dir) {
        fs.mkdirSync(dir, { recursive: true });
        writeArrays(path.join(dir, 'state.bin'), [
          ...vars.map((v) => v.dataSync() as Float32Array),
          ...m.map((t) => t.dataSync() as Float32Array),
          ...s.map((t) => t.dataSync() as Float32Array),
        ]);
        if (improved && bestWeights) writeArrays(path.join(dir, 'best.bin'), bestWeights);
        fs.writeFileSync(path.join(dir, 'meta.json.tmp'), JSON.stringify(meta));
        fs.renameSync(path.join(dir, 'meta.json.tmp'), path.join(dir, 'meta.json'));
      }
      if (o.onEpoch && !(await o.onEpoch(report))) {
        stopped = 'cancelled';
        break;
      }
      if (meta.sinceBest > o.patience) {
        stopped = 'early';
        break;
      }
      if (o.maxSeconds !== undefined && elapsed() > o.maxSeconds) {
        stopped = 'budget';
        break;
      }
    }
  } finally {
    m.forEach((t) => t.dispose());
    s.forEach((t) => t.dispose());
  }
  if (bestWeights) model.params.restore(bestWeights);
  return { history, bestEpoch: meta.bestEpoch, best: meta.best ?? { valLoss: NaN }, stopped, resumedFrom };
}
