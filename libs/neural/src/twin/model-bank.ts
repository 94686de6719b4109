import * as tf from '@tensorflow/tfjs';
import { odeint, odeintIntervals, odeintIntervalsFloat64 } from '@continuum/ode';
import type { SolverStats } from '@continuum/ode';
import { HostOdeRnn } from './host-kernels';
import type { TwinModel } from './twin-model';

/** How the twin integrates a model's latent ODE between readings. */
export interface TwinSolverSettings {
  /** An adaptive `@continuum/ode` method ('dopri5', 'tsit5', 'bosh3'). */
  method: string;
  rtol: number;
  atol: number;
  maxSteps: number;
  /** Longest advance (ms); over a longer gap the latent ODE is integrated for this long only. */
  maxAdvanceMs: number;
  /** Start each solve from the machines' last accepted steps (resumable solves). */
  warmStart: boolean;
  /** Constant step in rescaled time instead of adaptive steps (tests: identical steps batched and alone). */
  stepSize?: number;
  /** Rounds of at most this many machines run on the host (default {@link HOST_MAX_BATCH}; 0: always TensorFlow.js). */
  hostMaxBatch?: number;
}

export const DEFAULT_SOLVER: TwinSolverSettings = {
  method: 'dopri5',
  rtol: 1e-3,
  atol: 1e-4,
  maxSteps: 1000,
  maxAdvanceMs: 48 * 3_600_000,
  warmStart: true,
};

/** One round of a batch: at most one reading per machine (slot). */
export interface BankStepInput {
  slots: Int32Array;
  /** Reading times (epoch ms); a time before the machine's twin time is folded in at the twin time. */
  timesMs: Float64Array;
  /** Raw sensor values [B · D] in the model's sensor order (anything where the mask is 0). */
  values: Float64Array;
  /** [B · D], 1 where the sensor reported a finite value. */
  mask: Float32Array;
}

/** What one round produced, in sensor units. */
export interface BankStepOutput {
  B: number;
  D: number;
  H: number;
  /** Predicted means and standard deviations at the reading times, before the readings were folded in [B · D]. */
  mean: Float64Array;
  std: Float64Array;
  /** z-scores (x − mean) / std [B · D]; 0 where the sensor did not report. */
  residuals: Float64Array;
  /** Per machine: mean squared z-score over the sensors that reported (Mahalanobis², diagonal, per sensor). */
  anomaly: Float64Array;
  /** Latent states after the update [B · H]. */
  latent: Float32Array;
  nfe: number;
  /** The solver's largest scaled local error norm (≤ 1 when the tolerance held; 0 when nothing was integrated). */
  errorEstimate: number;
  /** First step passed to the solve (rescaled time), 0 for a cold start. */
  firstStep: number;
  /** Advance taken per machine, model time units. */
  spans: Float64Array;
}

/** A machine's twin state as a checkpoint holds it. */
export interface SlotState {
  machineId: string;
  h: ArrayLike<number>;
  latentVar: ArrayLike<number>;
  /** Twin time (epoch ms), NaN before the first reading. */
  timeMs: number;
  /** Last accepted step, model time units (0: unknown). */
  stepUnits: number;
  updates: number;
}

/** Result of {@link ModelBank.forecast}, in sensor units. */
export interface BankForecast {
  /** The machines forecast (those of the request this bank holds), in output order. */
  machineIds: string[];
  M: number;
  S: number;
  /** Grid points after the start (K) and their offsets from the twin time, model units. */
  K: number;
  offsetsUnits: Float64Array;
  /** Trajectory means per sample [M, S, K, D] (latent uncertainty only). */
  mean: Float64Array;
  /** Predictive draws per sample [M, S, K, D] (mean + std · ε: latent and observation noise). */
  draws: Float64Array;
  nfe: number;
}

/**
 * Rounds of at most this many machines run on the host ({@link HostOdeRnn}, `odeintIntervalsFloat64`),
 * larger ones on TensorFlow.js: for small rounds the tensor path's cost is its per-operation
 * bookkeeping, for large ones its batched kernels win. With the shipped models on the WASM backend
 * the host is 9x faster for one machine, 1.5x for 8, even at 12 and slower beyond
 * (`npm run bench:model-bank`, docs/benchmarks.md).
 */
export const HOST_MAX_BATCH = 8;

const PRIOR_LATENT_VAR = 0.05;
const LATENT_VAR_FLOOR = 1e-4;
const LATENT_VAR_DECAY = 0.1;

/**
 * The twins of every machine that runs one model: each machine's latent state (host memory, [capacity,
 * H]), twin time, last accepted step and latent spread. {@link step} advances a whole round of machines
 * at once — one `odeintIntervals` solve over every machine's own interval (rescaled time, Rubanova et
 * al. 2019), one read-out, one masked-GRU update — so nothing on the hot path is a per-machine
 * operation: on TensorFlow.js (one upload, one download) for rounds of more than `hostMaxBatch`
 * machines, on the host in double precision ({@link HostOdeRnn}) for smaller ones.
 */
export class ModelBank {
  readonly H: number;
  readonly D: number;
  private capacity = 0;
  private host = new Float32Array(0);
  private times = new Float64Array(0);
  private steps = new Float64Array(0);
  private latentVar = new Float32Array(0);
  private updateCounts = new Float64Array(0);
  private readonly slotOf = new Map<string, number>();
  private machineAt: (string | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private kernels: HostOdeRnn | undefined;
  /** Rounds of at most this many machines run on the host (0: always TensorFlow.js). */
  readonly hostMaxBatch: number;

  constructor(
    readonly model: TwinModel,
    readonly solver: TwinSolverSettings = DEFAULT_SOLVER,
    initialCapacity = 64,
  ) {
    this.H = model.model.config.hiddenDim;
    this.D = model.model.config.obsDim;
    this.hostMaxBatch = solver.hostMaxBatch ?? HOST_MAX_BATCH;
    this.grow(initialCapacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  machines(): string[] {
    return [...this.slotOf.keys()];
  }

  has(machineId: string): boolean {
    return this.slotOf.has(machineId);
  }

  /** The machine's slot, allocating a fresh twin (zero state, no time yet) when it has none. */
  slot(machineId: string): number {
    let s = this.slotOf.get(machineId);
    if (s !== undefined) return s;
    if (this.freeSlots.length === 0) this.grow(Math.max(64, this.capacity * 2));
    s = this.freeSlots.pop()!;
    this.slotOf.set(machineId, s);
    this.machineAt[s] = machineId;
    this.clearSlot(s);
    return s;
  }

  /** Twin time of a machine (epoch ms), NaN when it has none yet or is not here. */
  timeOf(machineId: string): number {
    const s = this.slotOf.get(machineId);
    return s === undefined ? NaN : this.times[s];
  }

  updatesOf(machineId: string): number {
    const s = this.slotOf.get(machineId);
    return s === undefined ? 0 : this.updateCounts[s];
  }

  private clearSlot(s: number): void {
    this.host.fill(0, s * this.H, (s + 1) * this.H);
    this.latentVar.fill(PRIOR_LATENT_VAR, s * this.H, (s + 1) * this.H);
    this.times[s] = NaN;
    this.steps[s] = 0;
    this.updateCounts[s] = 0;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    if (capacity <= old) return;
    const host = new Float32Array(capacity * this.H);
    host.set(this.host);
    this.host = host;
    const lv = new Float32Array(capacity * this.H).fill(PRIOR_LATENT_VAR);
    lv.set(this.latentVar);
    this.latentVar = lv;
    const times = new Float64Array(capacity).fill(NaN);
    times.set(this.times);
    this.times = times;
    const steps = new Float64Array(capacity);
    steps.set(this.steps);
    this.steps = steps;
    const counts = new Float64Array(capacity);
    counts.set(this.updateCounts);
    this.updateCounts = counts;
    this.machineAt.length = capacity;
    for (let s = capacity - 1; s >= old; s--) this.freeSlots.push(s);
    this.capacity = capacity;
  }

  /** Sets machines' states (from checkpoints), allocating slots as needed. */
  restore(states: readonly SlotState[]): void {
    for (const st of states) {
      if (st.h.length !== this.H || st.latentVar.length !== this.H) continue;
      const s = this.slot(st.machineId);
      for (let j = 0; j < this.H; j++) {
        this.host[s * this.H + j] = st.h[j];
        this.latentVar[s * this.H + j] = Math.max(Number(st.latentVar[j]), LATENT_VAR_FLOOR);
      }
      this.times[s] = st.timeMs;
      this.steps[s] = st.stepUnits;
      this.updateCounts[s] = st.updates;
    }
  }

  /** The machines' states as checkpoints hold them (from the host mirror; no tensor read). */
  snapshot(machineIds: Iterable<string>): SlotState[] {
    const out: SlotState[] = [];
    for (const id of machineIds) {
      const s = this.slotOf.get(id);
      if (s === undefined) continue;
      out.push({
        machineId: id,
        h: Array.from(this.host.subarray(s * this.H, (s + 1) * this.H)),
        latentVar: Array.from(this.latentVar.subarray(s * this.H, (s + 1) * this.H)),
        timeMs: this.times[s],
        stepUnits: this.steps[s],
        updates: this.updateCounts[s],
      });
    }
    return out;
  }

  /** Latent state of a machine (host mirror), or undefined. */
  latentOf(machineId: string): Float32Array | undefined {
    const s = this.slotOf.get(machineId);
    return s === undefined ? undefined : this.host.slice(s * this.H, (s + 1) * this.H);
  }

  /** Forgets machines (their slots are zeroed and reused). */
  remove(machineIds: Iterable<string>): void {
    for (const id of machineIds) {
      const s = this.slotOf.get(id);
      if (s === undefined) continue;
      this.slotOf.delete(id);
      this.machineAt[s] = undefined;
      this.clearSlot(s);
      this.freeSlots.push(s);
    }
  }

  /**
   * Advances a round of machines to their reading times, predicts the sensors there, folds the readings
   * in (missing sensors masked) and returns the predictions, z-scores and new latent states. A machine
   * without a twin time starts at its reading (no advance); a reading before the twin time is folded in
   * at the twin time (no rewind).
   *
   * @throws OdeError when the solve fails (the state is left unchanged)
   */
  step(input: BankStepInput): BankStepOutput {
    const { slots, timesMs, values, mask } = input;
    const B = slots.length;
    const { H, D } = this;
    const scale = this.model.scale;
    const offset = this.model.offset;
    const t0 = new Float64Array(B);
    const spans = new Float64Array(B);
    let maxSpan = 0;
    let minStep = Infinity;
    for (let i = 0; i < B; i++) {
      const s = slots[i];
      const prev = this.times[s];
      const dtMs = Number.isNaN(prev) ? 0 : Math.max(0, timesMs[i] - prev);
      const span = Math.min(dtMs, this.solver.maxAdvanceMs) / this.model.timeScaleMs;
      spans[i] = span;
      if (span > maxSpan) maxSpan = span;
      if (span > 0 && this.steps[s] > 0) minStep = Math.min(minStep, this.steps[s]);
    }
    const firstStep =
      this.solver.warmStart && maxSpan > 0 && Number.isFinite(minStep) ? Math.min(1, minStep / maxSpan) : 0;
    const x = new Float32Array(B * D);
    for (let i = 0; i < B * D; i++) {
      const d = i % D;
      x[i] = mask[i] ? (values[i] - offset[d]) / scale[d] : 0;
    }
    const options = {
      method: this.solver.method as never,
      rtol: this.solver.rtol,
      atol: this.solver.atol,
      maxSteps: this.solver.maxSteps,
      ...(this.solver.stepSize !== undefined ? { stepSize: this.solver.stepSize } : {}),
      ...(firstStep > 0 && this.solver.stepSize === undefined ? { firstStep } : {}),
    };
    const h0 = new Float64Array(B * H);
    for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) h0[i * H + j] = this.host[slots[i] * H + j];
    // Per machine: D means, D log variances, H updated states, H innovations (update − prior).
    let result: { stats: SolverStats; nextStep: number } | undefined;
    let data: ArrayLike<number>;
    if (B <= this.hostMaxBatch) {
      const k = (this.kernels ??= HostOdeRnn.from(this.model.model));
      let prior: Float64Array = h0;
      if (maxSpan > 0) {
        const r = odeintIntervalsFloat64((t, z) => k.field(t, z), h0, H, t0, spans, options);
        result = r;
        prior = r.y;
      }
      const out = k.readout(prior, B);
      const post = k.gru(prior, x, mask, B);
      const packed = new Float64Array(B * (2 * D + 2 * H));
      for (let i = 0; i < B; i++) {
        const row = i * (2 * D + 2 * H);
        for (let d = 0; d < 2 * D; d++) packed[row + d] = out[i * 2 * D + d];
        for (let j = 0; j < H; j++) {
          packed[row + 2 * D + j] = post[i * H + j];
          packed[row + 2 * D + H + j] = post[i * H + j] - prior[i * H + j];
        }
      }
      data = packed;
    } else {
      const field = this.model.model.rnn.field;
      const packed = tf.tidy(() => {
        const start = tf.tensor2d(Float32Array.from(h0), [B, H]);
        let prior: tf.Tensor = start;
        if (maxSpan > 0) {
          const r = odeintIntervals((t, z) => field.apply(t, z), start, t0, spans, options);
          result = r;
          prior = r.y;
        }
        const { mean, logVar } = this.model.model.readout(prior);
        const post = this.model.model.rnn.gru.update(prior, tf.tensor2d(x, [B, D]), tf.tensor2d(mask, [B, D]));
        return tf.concat([mean, logVar, post, tf.sub(post, prior)], 1);
      });
      data = packed.dataSync() as Float32Array;
      packed.dispose();
    }
    const W = 2 * D + 2 * H;
    const mean = new Float64Array(B * D);
    const std = new Float64Array(B * D);
    const residuals = new Float64Array(B * D);
    const anomaly = new Float64Array(B);
    const latent = new Float32Array(B * H);
    const nextStep = result ? Math.abs(result.nextStep) : 0;
    for (let i = 0; i < B; i++) {
      const s = slots[i];
      const row = i * W;
      let sum = 0;
      let n = 0;
      for (let d = 0; d < D; d++) {
        const mu = data[row + d];
        const sigma = Math.exp(0.5 * data[row + D + d]);
        const k = i * D + d;
        mean[k] = mu * scale[d] + offset[d];
        std[k] = sigma * scale[d];
        if (mask[k]) {
          const z = (x[k] - mu) / sigma;
          residuals[k] = z;
          sum += z * z;
          n++;
        }
      }
      anomaly[i] = n > 0 ? sum / n : 0;
      for (let j = 0; j < H; j++) {
        const v = data[row + 2 * D + j];
        const innov = data[row + 2 * D + H + j];
        latent[i * H + j] = v;
        this.host[s * H + j] = v;
        const lv = this.latentVar[s * H + j];
        this.latentVar[s * H + j] = Math.max(
          (1 - LATENT_VAR_DECAY) * lv + LATENT_VAR_DECAY * innov * innov,
          LATENT_VAR_FLOOR,
        );
      }
      const prev = this.times[s];
      this.times[s] = Number.isNaN(prev) ? timesMs[i] : Math.max(prev, timesMs[i]);
      if (spans[i] > 0 && nextStep > 0) this.steps[s] = nextStep * maxSpan;
      this.updateCounts[s]++;
    }
    const err = result?.stats.errorEstimate ?? 0;
    return {
      B,
      D,
      H,
      mean,
      std,
      residuals,
      anomaly,
      latent,
      nfe: result?.stats.nfe ?? 0,
      errorEstimate: Number.isFinite(err) ? err : 0,
      firstStep,
      spans,
    };
  }

  /**
   * Integrates machines' latent states forward from their twin times: `samples` draws of each latent
   * state (mean from the filter, spread from the recent updates' innovations), all machines and samples
   * in one batched solve, read out at `points` times evenly spaced over the horizon.
   *
   * @param rand standard normal generator (seeded by the caller for reproducible forecasts)
   */
  forecast(
    machineIds: readonly string[],
    horizonUnits: number,
    points: number,
    samples: number,
    rand: () => number,
  ): BankForecast {
    const ids = machineIds.filter((id) => this.slotOf.has(id));
    const M = ids.length;
    const S = samples;
    const { H, D } = this;
    const K = points;
    const offsetsUnits = Float64Array.from({ length: K }, (_, k) => (horizonUnits * (k + 1)) / K);
    const y0 = new Float32Array(M * S * H);
    ids.forEach((id, m) => {
      const s = this.slotOf.get(id)!;
      for (let k = 0; k < S; k++)
        for (let j = 0; j < H; j++) {
          const sd = k === 0 ? 0 : Math.sqrt(this.latentVar[s * H + j]);
          y0[(m * S + k) * H + j] = this.host[s * H + j] + sd * rand();
        }
    });
    const field = this.model.model.rnn.field;
    let nfe = 0;
    const data =
      M === 0
        ? new Float32Array(0)
        : tf.tidy(() => {
            const sol = odeint((t, z) => field.apply(t, z), tf.tensor2d(y0, [M * S, H]), [0, ...offsetsUnits], {
              method: this.solver.method as never,
              rtol: this.solver.rtol,
              atol: this.solver.atol,
              maxSteps: this.solver.maxSteps * 10,
            });
            nfe = sol.stats.nfe;
            const ys = tf.slice(sol.ys, [1, 0, 0], [K, M * S, H]);
            const { mean, logVar } = this.model.model.readout(tf.reshape(ys, [K * M * S, H]));
            return tf.concat([mean, logVar], 1).dataSync() as Float32Array;
          });
    const mean = new Float64Array(M * S * K * D);
    const draws = new Float64Array(M * S * K * D);
    for (let k = 0; k < K; k++)
      for (let ms = 0; ms < M * S; ms++) {
        const row = (k * M * S + ms) * 2 * D;
        for (let d = 0; d < D; d++) {
          const mu = data[row + d] * this.model.scale[d] + this.model.offset[d];
          const sd = Math.exp(0.5 * data[row + D + d]) * this.model.scale[d];
          const o = (ms * K + k) * D + d;
          mean[o] = mu;
          draws[o] = mu + sd * rand();
        }
      }
    return { machineIds: ids, M, S, K, offsetsUnits, mean, draws, nfe };
  }

  /** Nothing to free since the states live in host memory; kept for callers that dispose banks. */
  dispose(): void {}
}
