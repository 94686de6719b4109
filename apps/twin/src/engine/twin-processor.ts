import type { TwinLatentSummary, TwinMessage } from '@continuum/contracts';
import {
  forecastSummary,
  ModelBank,
  summariseForecast,
  type BankStepOutput,
  type MachineForecast,
  type SlotState,
  type Thresholds,
  type TwinModel,
  type TwinSolverSettings,
} from '@continuum/neural';

/** What the twin knows about a machine (from the `machines` table). */
export interface MachineInfo {
  id: string;
  plantId: string;
  assetType: string;
  thresholds: Thresholds;
}

/** One reading as the twin consumes it: every sensor a machine reported at one time. */
export interface TwinReading {
  machineId: string;
  timeMs: number;
  values: Record<string, number>;
  /** When the platform had the reading (ingestion's commit), for the end-to-end latency. */
  receivedAtMs: number;
}

/** Why (part of) a reading was not used. Counted under `twin_rejected_total{reason}`. */
export const TWIN_REJECT_REASONS = [
  /** No such machine in `machines`. */
  'unknown-machine',
  /** Neither an active registry model nor a shipped default for the machine's asset type. */
  'no-model',
  /** A sensor the model does not know (the sensor is ignored, the rest of the reading is used). */
  'unknown-sensor',
  /** A NaN or infinite value (the sensor is ignored). */
  'non-finite',
  /** No usable sensor left in the reading. */
  'empty',
  /** A time that is not a finite number. */
  'bad-time',
  /** Older than the twin's time by more than TWIN_MAX_LAG_MS (dropped). */
  'too-old',
  /** The solver failed for this machine (its state is left as it was). */
  'solver-error',
] as const;
export type TwinRejectReason = (typeof TWIN_REJECT_REASONS)[number];

/** A published update: the message and what it is about. */
export interface TwinUpdate {
  /** The twin always fills `latent` (optional in the contract for other producers). */
  message: TwinMessage & { latent: LatentSummary };
  machine: MachineInfo;
  receivedAtMs: number;
}

/** The latent state in a few numbers: its norm, mean spread (filter uncertainty) and updates so far. */
export type LatentSummary = TwinLatentSummary;

/** Work of one {@link TwinProcessor.process} call. */
export interface ProcessStats {
  updates: number;
  rounds: number;
  /** One entry per solve (per model and round). */
  solves: { model: string; batch: number; nfe: number; errorEstimate: number; firstStep: number }[];
  rejected: Partial<Record<TwinRejectReason, number>>;
  outOfOrder: number;
}

export interface TwinProcessorOptions {
  solver: TwinSolverSettings;
  /** Readings older than the twin time by more than this are dropped (`too-old`). */
  maxLagMs: number;
  /** The model of an asset type now (active registry version, else the shipped default). */
  modelFor: (assetType: string) => TwinModel | undefined;
  log?: (level: 'warn' | 'debug', message: string) => void;
}

interface Prepared {
  machine: MachineInfo;
  bank: ModelBank;
  timeMs: number;
  values: Float64Array;
  mask: Float32Array;
  receivedAtMs: number;
  outOfOrder: boolean;
}

/**
 * The twin's decisions, with no I/O: routes readings to their model's {@link ModelBank}, refuses bad
 * input (counted, never stopping the batch), orders each machine's readings in time and applies them
 * in rounds (round r holds every machine's r-th reading, so one solve per model and round), and turns
 * each round's output into twin messages. Also forecasts, checkpoints (snapshot / restore) and resets.
 *
 * Out-of-order policy: a reading older than the machine's twin time (but within `maxLagMs`) is folded
 * in at the twin time without rewinding the state — its residuals are taken against the current
 * prediction, and it is counted (`outOfOrder`); older than `maxLagMs` it is dropped (`too-old`).
 */
export class TwinProcessor {
  private readonly banks = new Map<string, ModelBank>();

  constructor(private readonly options: TwinProcessorOptions) {}

  /** The bank of an asset type's current model (a new model version replaces the old bank). */
  bankFor(assetType: string): ModelBank | undefined {
    const model = this.options.modelFor(assetType);
    const bank = this.banks.get(assetType);
    if (bank && bank.model === model) return bank;
    if (bank) {
      this.options.log?.(
        'warn',
        `model of ${assetType} is now ${model?.version ?? 'none'} (was ${bank.model.version}): ${bank.size} twins restart`,
      );
      bank.dispose();
      this.banks.delete(assetType);
    }
    if (!model) return undefined;
    const fresh = new ModelBank(model, this.options.solver);
    this.banks.set(assetType, fresh);
    return fresh;
  }

  /** Every bank (asset type -> bank). */
  allBanks(): ReadonlyMap<string, ModelBank> {
    return this.banks;
  }

  /** Number of machines with a twin. */
  get machineCount(): number {
    let n = 0;
    for (const b of this.banks.values()) n += b.size;
    return n;
  }

  private findBank(machineId: string): ModelBank | undefined {
    for (const b of this.banks.values()) if (b.has(machineId)) return b;
    return undefined;
  }

  /**
   * Applies a batch of readings.
   *
   * @param readings in any order (several per machine allowed)
   * @param machines the machines' descriptions (a machine it does not know is `unknown-machine`)
   */
  process(
    readings: readonly TwinReading[],
    machines: (id: string) => MachineInfo | undefined,
  ): { updates: TwinUpdate[]; stats: ProcessStats } {
    const stats: ProcessStats = { updates: 0, rounds: 0, solves: [], rejected: {}, outOfOrder: 0 };
    const reject = (reason: TwinRejectReason, machineId: string, detail = '') => {
      stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1;
      this.options.log?.('debug', `reading of ${machineId} refused (${reason})${detail ? `: ${detail}` : ''}`);
    };
    const perMachine = new Map<string, Prepared[]>();
    for (const r of readings) {
      const machine = machines(r.machineId);
      if (!machine) {
        reject('unknown-machine', r.machineId);
        continue;
      }
      if (!Number.isFinite(r.timeMs)) {
        reject('bad-time', r.machineId);
        continue;
      }
      const bank = this.bankFor(machine.assetType);
      if (!bank) {
        reject('no-model', r.machineId, machine.assetType);
        continue;
      }
      const sensors = bank.model.sensors;
      const values = new Float64Array(sensors.length);
      const mask = new Float32Array(sensors.length);
      let used = 0;
      for (const [name, v] of Object.entries(r.values)) {
        const d = sensors.indexOf(name);
        if (d < 0) {
          reject('unknown-sensor', r.machineId, name);
          continue;
        }
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          reject('non-finite', r.machineId, name);
          continue;
        }
        values[d] = v;
        mask[d] = 1;
        used++;
      }
      if (used === 0) {
        reject('empty', r.machineId);
        continue;
      }
      let list = perMachine.get(machine.id);
      if (!list) perMachine.set(machine.id, (list = []));
      list.push({ machine, bank, timeMs: r.timeMs, values, mask, receivedAtMs: r.receivedAtMs, outOfOrder: false });
    }
    // Time order per machine; the lag rule against the running twin time.
    const rounds: Prepared[][] = [];
    for (const [id, list] of perMachine) {
      list.sort((a, b) => a.timeMs - b.timeMs);
      let twinTime = list[0].bank.timeOf(id);
      let r = 0;
      for (const p of list) {
        if (!Number.isNaN(twinTime) && p.timeMs < twinTime) {
          if (twinTime - p.timeMs > this.options.maxLagMs) {
            reject('too-old', id, `${twinTime - p.timeMs} ms behind`);
            continue;
          }
          p.outOfOrder = true;
          stats.outOfOrder++;
        }
        twinTime = Number.isNaN(twinTime) ? p.timeMs : Math.max(twinTime, p.timeMs);
        (rounds[r++] ??= []).push(p);
      }
    }
    const updates: TwinUpdate[] = [];
    for (const round of rounds) {
      stats.rounds++;
      const byBank = new Map<ModelBank, Prepared[]>();
      for (const p of round) {
        let l = byBank.get(p.bank);
        if (!l) byBank.set(p.bank, (l = []));
        l.push(p);
      }
      for (const [bank, items] of byBank) this.runRound(bank, items, updates, stats, reject);
    }
    stats.updates = updates.length;
    return { updates, stats };
  }

  private runRound(
    bank: ModelBank,
    items: Prepared[],
    updates: TwinUpdate[],
    stats: ProcessStats,
    reject: (reason: TwinRejectReason, machineId: string, detail?: string) => void,
  ): void {
    const run = (part: Prepared[]): BankStepOutput => {
      const D = bank.D;
      const slots = new Int32Array(part.length);
      const timesMs = new Float64Array(part.length);
      const values = new Float64Array(part.length * D);
      const mask = new Float32Array(part.length * D);
      part.forEach((p, i) => {
        slots[i] = bank.slot(p.machine.id);
        timesMs[i] = p.timeMs;
        values.set(p.values, i * D);
        mask.set(p.mask, i * D);
      });
      return bank.step({ slots, timesMs, values, mask });
    };
    let parts: { items: Prepared[]; out: BankStepOutput }[];
    try {
      parts = [{ items, out: run(items) }];
    } catch (err) {
      // One machine's bad interval must not stop the others: retry one at a time.
      this.options.log?.(
        'warn',
        `batched solve of ${items.length} ${bank.model.version} twins failed (${(err as Error).message}); retrying one by one`,
      );
      parts = [];
      for (const p of items) {
        try {
          parts.push({ items: [p], out: run([p]) });
        } catch (e) {
          reject('solver-error', p.machine.id, (e as Error).message);
        }
      }
    }
    for (const { items: part, out } of parts) {
      stats.solves.push({
        model: bank.model.version,
        batch: part.length,
        nfe: out.nfe,
        errorEstimate: out.errorEstimate,
        firstStep: out.firstStep,
      });
      part.forEach((p, i) => updates.push(this.message(bank, p, out, i)));
    }
  }

  private message(bank: ModelBank, p: Prepared, out: BankStepOutput, i: number): TwinUpdate {
    const { D, H } = out;
    const sensors = bank.model.sensors;
    const prediction: TwinMessage['prediction'] = {};
    const residuals: TwinMessage['residuals'] = {};
    for (let d = 0; d < D; d++) {
      const k = i * D + d;
      prediction[sensors[d]] = { mean: out.mean[k], std: out.std[k] };
      if (p.mask[d]) residuals[sensors[d]] = out.residuals[k];
    }
    let norm = 0;
    for (let j = 0; j < H; j++) norm += out.latent[i * H + j] ** 2;
    const snap = bank.snapshot([p.machine.id])[0];
    let spread = 0;
    for (let j = 0; j < H; j++) spread += Math.sqrt(Number(snap.latentVar[j]));
    return {
      machine: p.machine,
      receivedAtMs: p.receivedAtMs,
      message: {
        plantId: p.machine.plantId,
        machineId: p.machine.id,
        ts: p.outOfOrder ? bank.timeOf(p.machine.id) : p.timeMs,
        modelVersion: bank.model.version,
        prediction,
        residuals,
        anomalyScore: out.anomaly[i],
        nfe: out.nfe,
        solverError: out.errorEstimate,
        latent: { norm: Math.sqrt(norm), spread: spread / H, updates: snap.updates },
        ...(p.outOfOrder ? { outOfOrder: true as const } : {}),
      },
    };
  }

  /**
   * Forecasts machines (batched per model across machines and samples).
   *
   * @param rand standard normal generator
   */
  forecast(
    machineIds: readonly string[],
    options: { horizonMs: number; points: number; samples: number },
    machines: (id: string) => MachineInfo | undefined,
    rand: () => number,
  ): MachineForecast[] {
    const byBank = new Map<ModelBank, string[]>();
    for (const id of machineIds) {
      const bank = this.findBank(id);
      if (!bank || Number.isNaN(bank.timeOf(id))) continue;
      let l = byBank.get(bank);
      if (!l) byBank.set(bank, (l = []));
      l.push(id);
    }
    const out: MachineForecast[] = [];
    for (const [bank, ids] of byBank) {
      const f = bank.forecast(ids, options.horizonMs / bank.model.timeScaleMs, options.points, options.samples, rand);
      out.push(
        ...summariseForecast(f, bank.model.sensors, {
          fromMs: (id) => bank.timeOf(id),
          thresholds: (id) => machines(id)?.thresholds ?? {},
          timeScaleMs: bank.model.timeScaleMs,
          modelVersion: bank.model.version,
        }),
      );
    }
    return out;
  }

  /** Attaches forecast summaries to updates (in place). */
  static attachForecasts(updates: TwinUpdate[], forecasts: readonly MachineForecast[]): void {
    const byId = new Map(forecasts.map((f) => [f.machineId, f]));
    for (const u of updates) {
      const f = byId.get(u.machine.id);
      if (f) u.message.forecast = forecastSummary(f);
    }
  }

  /** Checkpoints of machines (those that have a twin), with their model. */
  snapshot(machineIds: Iterable<string>): { state: SlotState; model: TwinModel }[] {
    const out: { state: SlotState; model: TwinModel }[] = [];
    const ids = [...machineIds];
    for (const bank of this.banks.values())
      for (const state of bank.snapshot(ids.filter((id) => bank.has(id)))) out.push({ state, model: bank.model });
    return out;
  }

  /**
   * Restores checkpoints; one taken under another model (version) than the asset type's current one is
   * skipped (that twin starts afresh).
   *
   * @returns how many were restored
   */
  restore(checkpoints: readonly { state: SlotState; assetType: string; modelVersion: string }[]): number {
    const byBank = new Map<ModelBank, SlotState[]>();
    for (const c of checkpoints) {
      const bank = this.bankFor(c.assetType);
      if (!bank || bank.model.version !== c.modelVersion) continue;
      let l = byBank.get(bank);
      if (!l) byBank.set(bank, (l = []));
      l.push(c.state);
    }
    let n = 0;
    for (const [bank, states] of byBank) {
      bank.restore(states);
      n += states.length;
    }
    return n;
  }

  /** Forgets machines' twins (reset, or partitions handed over). */
  drop(machineIds: Iterable<string>): void {
    const ids = [...machineIds];
    for (const bank of this.banks.values()) bank.remove(ids.filter((id) => bank.has(id)));
  }

  /** Twin time of a machine (NaN when it has none). */
  timeOf(machineId: string): number {
    return this.findBank(machineId)?.timeOf(machineId) ?? NaN;
  }

  dispose(): void {
    for (const b of this.banks.values()) b.dispose();
    this.banks.clear();
  }
}
