/**
 * Divergence as a pattern across sensors: a time-aware multivariate EWMA of the twin's residuals
 * (Lowry, Woodall, Champ & Rigdon 1992, "A multivariate exponentially weighted moving average
 * control chart", Technometrics 34) compared with a reference of the same statistic on healthy
 * machines by its Mahalanobis distance.
 *
 * Why: the twin's filter corrects its state at every reading, so a slow drift is absorbed sensor by
 * sensor and each residual stays small — but not in the pattern a healthy machine shows. On the
 * evaluation fleet a worn compressor runs hotter at the discharge than its oil temperature and motor
 * current explain: the twin splits the difference, its discharge-temperature residuals run above
 * zero and its oil-temperature residuals below, each within a per-sensor CUSUM's allowance; on
 * healthy compressors the two move together (correlation 0.9 of their averages). The distance
 * weighs the pair by how healthy machines vary.
 *
 * The statistic: per sensor, `e ← e + (1 − exp(−Δt/τ)) (clip(z) − e)` with Δt the time since that
 * sensor's previous reading, at most `maxStepMinutes` (an average over the last τ of reading time,
 * whatever the sampling rate; one reading after a long gap does not replace the average); the value
 * is `D² = (e − μ)ᵀ Σ⁻¹ (e − μ)` with the reference mean μ and covariance Σ of `e` on healthy
 * machines, about the number of sensors while the machine behaves like those.
 */
import {
  residualReferenceCholesky as choleskyOf,
  type ResidualReference,
  type TwinMessage,
} from '@continuum/contracts';

export { referenceFromParams, referenceToParams, type ResidualReference } from '@continuum/contracts';

export interface MewmaParams {
  /** Time constant of the average (minutes of reading time). */
  tauMinutes: number;
  /** Residuals are clipped to ±clip first (one wild reading is not a drift). */
  clip: number;
  /**
   * The time one reading can stand for (minutes): after a gap (a stop, a lost link) the first reading
   * moves the average by at most 1 − exp(−maxStep/τ), not all the way to itself.
   */
  maxStepMinutes: number;
}

export const DEFAULT_MEWMA: MewmaParams = { tauMinutes: 60, clip: 8, maxStepMinutes: 15 };

/** The per-sensor time-aware averages of one machine's residuals. */
export class ResidualAverages {
  /** Current average per reference sensor (starts at the reference mean). */
  readonly values: Float64Array;
  private readonly last: Float64Array;
  private readonly index: Map<string, number>;

  constructor(
    sensors: readonly string[],
    start: readonly number[],
    private readonly params: MewmaParams,
  ) {
    this.values = Float64Array.from(start);
    this.last = new Float64Array(sensors.length).fill(NaN);
    this.index = new Map(sensors.map((s, i) => [s, i]));
  }

  /**
   * Folds in a message's residuals; the first reading of a sensor only starts its clock.
   * @returns whether a reference sensor reported
   */
  update(residuals: Record<string, number>, ts: number): boolean {
    const tauMs = this.params.tauMinutes * 60_000;
    const maxStepMs = this.params.maxStepMinutes * 60_000;
    let seen = false;
    for (const [sensor, z] of Object.entries(residuals)) {
      const i = this.index.get(sensor);
      if (i === undefined || !Number.isFinite(z)) continue;
      seen = true;
      const last = this.last[i];
      this.last[i] = Number.isNaN(last) ? ts : Math.max(last, ts);
      if (Number.isNaN(last)) continue;
      const alpha = 1 - Math.exp(-Math.min(Math.max(0, ts - last), maxStepMs) / tauMs);
      const c = Math.max(-this.params.clip, Math.min(this.params.clip, z));
      this.values[i] += alpha * (c - this.values[i]);
    }
    return seen;
  }
}

/** D² of one machine's averages against a reference (see the module's comment). */
export class ResidualMewmaDetectorCore {
  readonly reference: ResidualReference;
  private readonly chol: number[][];
  private readonly averages: ResidualAverages;

  constructor(reference: ResidualReference, params: MewmaParams) {
    this.reference = reference;
    this.chol = choleskyOf(reference);
    this.averages = new ResidualAverages(reference.sensors, reference.mean, params);
  }

  /**
   * Folds in a message; null when none of the reference's sensors reported. `sensor` is the one whose
   * average lies furthest from the reference in its own standard deviations (what an operator looks at
   * first; D² itself may come from several sensors moving against their usual relation).
   */
  update(message: Pick<TwinMessage, 'residuals' | 'ts'>): { d2: number; sensor: string } | null {
    if (!this.averages.update(message.residuals, message.ts)) return null;
    const { mean, sensors, covariance } = this.reference;
    const n = sensors.length;
    // Solve L y = (e − μ); D² = |y|².
    const y = new Array<number>(n);
    let d2 = 0;
    let top = 0;
    let topDeviation = -1;
    for (let i = 0; i < n; i++) {
      const diff = this.averages.values[i] - mean[i];
      let s = diff;
      for (let k = 0; k < i; k++) s -= this.chol[i][k] * y[k];
      y[i] = s / this.chol[i][i];
      d2 += y[i] * y[i];
      const deviation = Math.abs(diff) / Math.sqrt(covariance[i][i]);
      if (deviation > topDeviation) [top, topDeviation] = [i, deviation];
    }
    return { d2, sensor: sensors[top] };
  }

  /** Each average's distance from the reference mean, in the reference's standard deviations. */
  get deviations(): Record<string, number> {
    const { mean, sensors, covariance } = this.reference;
    return Object.fromEntries(
      sensors.map((s, i) => [s, (this.averages.values[i] - mean[i]) / Math.sqrt(covariance[i][i])]),
    );
  }
}

/**
 * Fits a reference from healthy machines' twin messages: every machine's averages (same τ and clip
 * as the detector will use; from zero) sampled every `sampleMinutes` of its reading time once τ has
 * passed and every sensor has reported twice, pooled over machines. The spread between machines
 * (one model's constant biases on each) is part of the reference, as it should be: the detector then
 * flags what healthy machines do not do. A ridge of `ridge` × the mean variance on the diagonal keeps
 * Σ invertible.
 */
export class ReferenceFit {
  private readonly machines = new Map<
    string,
    { averages: ResidualAverages; reported: Int32Array; first: number; next: number }
  >();
  private n = 0;
  private readonly sum: Float64Array;
  private readonly cross: Float64Array;

  constructor(
    readonly sensors: readonly string[],
    private readonly params: MewmaParams = DEFAULT_MEWMA,
    private readonly sampleMinutes = 5,
  ) {
    this.sum = new Float64Array(sensors.length);
    this.cross = new Float64Array(sensors.length * sensors.length);
  }

  add(message: Pick<TwinMessage, 'machineId' | 'residuals' | 'ts'>): void {
    const D = this.sensors.length;
    let m = this.machines.get(message.machineId);
    if (!m) {
      m = {
        averages: new ResidualAverages(this.sensors, new Array<number>(D).fill(0), this.params),
        reported: new Int32Array(D),
        first: message.ts,
        next: -Infinity,
      };
      this.machines.set(message.machineId, m);
    }
    this.sensors.forEach((s, i) => {
      if (Number.isFinite(message.residuals[s])) m.reported[i]++;
    });
    m.averages.update(message.residuals, message.ts);
    const settled = message.ts - m.first >= this.params.tauMinutes * 60_000 && m.reported.every((c) => c >= 2);
    if (!settled || message.ts < m.next) return;
    m.next = message.ts + this.sampleMinutes * 60_000;
    const e = m.averages.values;
    this.n++;
    for (let i = 0; i < D; i++) {
      this.sum[i] += e[i];
      for (let j = 0; j < D; j++) this.cross[i * D + j] += e[i] * e[j];
    }
  }

  /** Samples taken so far. */
  get samples(): number {
    return this.n;
  }

  reference(ridge = 1e-3): ResidualReference {
    const D = this.sensors.length;
    if (this.n < 10 * D)
      throw new Error(`a reference over ${D} sensors needs at least ${10 * D} samples, have ${this.n}`);
    const mean = Array.from(this.sum, (s) => s / this.n);
    const covariance = mean.map((mi, i) => mean.map((mj, j) => this.cross[i * D + j] / this.n - mi * mj));
    const meanVar = covariance.reduce((a, row, i) => a + row[i], 0) / D;
    covariance.forEach((row, i) => (row[i] += ridge * meanVar));
    return { sensors: [...this.sensors], mean, covariance };
  }
}
