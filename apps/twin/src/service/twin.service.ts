import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { TwinConfig } from '@continuum/config';
import type { ReadingsStoredEvent } from '@continuum/contracts';
import { initTensorBackend } from '@continuum/ode';
import type { TwinPredictionRow } from '@continuum/persistence';
import * as tf from '@tensorflow/tfjs';
import type { MachineForecast } from '@continuum/neural';
import { mergeStats, sliceByMachine } from '../engine/slices';
import {
  TwinProcessor,
  type MachineInfo,
  type ProcessStats,
  type TwinReading,
  type TwinUpdate,
} from '../engine/twin-processor';
import { TwinMetrics } from '../metrics/twin.metrics';
import { ModelRegistry } from '../models/model-registry';
import { PartitionManager } from '../partitions/partition-manager';
import { partitionOf } from '../partitions/partitions';
import { TwinRepository, type FetchSpan, type ReadingSpan } from '../storage/twin.repository';
import { within } from './deadline';
import { TwinPublisher } from './twin-publisher';

export const TWIN_CONFIG = Symbol('TWIN_CONFIG');

const CHUNK = 1000;
const UNKNOWN_MACHINE_TTL_MS = 30_000;
const FORECASTS_PER_BATCH = 1024;
/** Readings of one machine per synchronous slice of a batch (see sliceByMachine). */
const SLICE_READINGS_PER_MACHINE = 32;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Standard normals (Box–Muller on Math.random). */
function randn(): number {
  let u = Math.random();
  while (u <= 1e-12) u = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

/**
 * The twin service (ARCHITECTURE.md, "Twin update (the hot path)"): collects ReadingsStored
 * announcements for its partitions over TWIN_BATCH_WINDOW_MS (or TWIN_BATCH_MAX_MACHINES), reads those
 * readings in one query, advances every machine's twin in batches ({@link TwinProcessor}), publishes the
 * updates (MQTT and the event bus, with a periodic forecast summary), stores them downsampled in
 * twin_predictions, checkpoints states to twin_states, and follows model activations and partition
 * leases. Batches never overlap; a failure in one stage is logged and counted and the service carries on.
 */
/** Warnings about machines skipped before fetching (no model, unknown) come at most this often; so do those about batches waiting on the publisher. */
const SKIPPED_LOG_INTERVAL_MS = 60_000;

@Injectable()
export class TwinService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Twin');
  readonly registry: ModelRegistry;
  readonly processor: TwinProcessor;
  readonly partitions: PartitionManager;
  private readonly machineCache = new Map<string, MachineInfo>();
  private readonly unknownMachines = new Map<string, number>();
  private pending = new Map<string, ReadingSpan>();
  private windowTimer: NodeJS.Timeout | undefined;
  private working: Promise<void> = Promise.resolve();
  private busy = false;
  /** Set while batches wait for the publisher's backlog to fall under its window (see {@link waitForPublisher}). */
  private publisherWait: Promise<void> | undefined;
  private readonly dirty = new Set<string>();
  private readonly lastStored = new Map<string, number>();
  private readonly lastForecast = new Map<string, number>();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private modelTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly listeners: ((updates: readonly TwinUpdate[]) => void)[] = [];

  constructor(
    private readonly repo: TwinRepository,
    private readonly publisher: TwinPublisher,
    @Inject(TWIN_CONFIG) readonly config: TwinConfig,
    private readonly metrics: TwinMetrics,
  ) {
    this.registry = new ModelRegistry(config.modelsDir, repo, (level, m) => this.logger[level](m));
    this.processor = new TwinProcessor({
      solver: { ...config.solver, maxSteps: 1000 },
      maxLagMs: config.maxLagMs,
      modelFor: (assetType) => this.registry.modelFor(assetType),
      log: (level, m) => (level === 'warn' ? this.logger.warn(m) : this.logger.debug(m)),
    });
    this.partitions = new PartitionManager(
      repo.leases,
      {
        instance: config.instance,
        partitions: config.partitions,
        ttlMs: config.leaseTtlMs,
        renewMs: config.leaseRenewMs,
        handoverTimeoutMs: config.stageTimeoutMs,
      },
      { acquired: (p) => this.restorePartitions(p), releasing: (p) => this.releasePartitions(p) },
      (err) => this.fail('leases', err),
      (message) => this.logger.error(`leases: ${message}`),
    );
    metrics.publishBacklogOf = () => publisher.backlog;
  }

  async onModuleInit(): Promise<void> {
    const backend = await initTensorBackend({ log: (m) => this.logger.log(m) });
    this.logger.log(
      `instance ${this.config.instance}: backend ${backend}, default models for ${this.registry.defaultAssetTypes.join(', ') || 'no asset type'}`,
    );
    await this.pollModels();
    await this.partitions.start();
    this.checkpointTimer = setInterval(() => void this.checkpoint(), this.config.checkpointIntervalMs);
    this.checkpointTimer.unref();
    this.modelTimer = setInterval(() => void this.pollModels(), this.config.modelPollMs);
    this.modelTimer.unref();
  }

  /** Runs before the database closes (libs/runtime): last batch, checkpoints, partitions released. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.checkpointTimer);
    clearInterval(this.modelTimer);
    clearTimeout(this.windowTimer);
    await this.working;
    if (this.pending.size > 0) await this.runBatch();
    // The updates still queued in the publisher (beyond its window) are not yet with the MQTT clients,
    // which deliver what they hold before closing: give them a bounded while to get there.
    await this.stage(this.publisher.whenBacklogAtMost(0), 'publishing before shutdown').catch((err: Error) =>
      this.fail('publish', err),
    );
    await this.partitions.stop().catch((err: Error) => this.fail('leases', err));
    this.processor.dispose();
    this.registry.dispose();
  }

  /** Calls `listener` with every batch of published updates (tests, in-process consumers). */
  onUpdates(listener: (updates: readonly TwinUpdate[]) => void): void {
    this.listeners.push(listener);
  }

  /** A ReadingsStored announcement: machines of owned partitions join the next batch. */
  enqueue(event: ReadingsStoredEvent): void {
    if (this.stopping) return;
    for (const m of event.machines) {
      if (!this.partitions.owns(partitionOf(m.machineId, this.config.partitions))) continue;
      const prev = this.pending.get(m.machineId);
      if (prev) {
        prev.from = Math.min(prev.from, m.from);
        prev.to = Math.max(prev.to, m.to);
        prev.receivedAtMs = Math.min(prev.receivedAtMs, event.committedAt);
        prev.count = (prev.count ?? 0) + m.count;
      } else
        this.pending.set(m.machineId, {
          machineId: m.machineId,
          from: m.from,
          to: m.to,
          receivedAtMs: event.committedAt,
          count: m.count,
        });
    }
    this.schedule();
  }

  /** A span's remainder left by a capped fetch: back into the pending batch, merged with newer ones. */
  private requeue(span: ReadingSpan): void {
    const prev = this.pending.get(span.machineId);
    if (prev) {
      prev.from = Math.min(prev.from, span.from);
      prev.to = Math.max(prev.to, span.to);
      prev.receivedAtMs = Math.min(prev.receivedAtMs, span.receivedAtMs);
    } else this.pending.set(span.machineId, { ...span });
  }

  private ownsMachine(machineId: string): boolean {
    return this.partitions.owns(partitionOf(machineId, this.config.partitions));
  }

  /** Bounds one stage of a batch or hand-over (TWIN_STAGE_TIMEOUT_MS): nothing in the loop waits for ever. */
  private stage<T>(promise: Promise<T>, what: string): Promise<T> {
    return within(promise, this.config.stageTimeoutMs, what);
  }

  private schedule(): void {
    if (this.pending.size === 0 || this.busy || this.publisherWait) return;
    if (this.pending.size >= this.config.batchMaxMachines) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
      void this.runBatch();
    } else if (!this.windowTimer) {
      this.windowTimer = setTimeout(() => {
        this.windowTimer = undefined;
        void this.runBatch();
      }, this.config.batchWindowMs);
    }
  }

  /**
   * Processes the pending machines now (one batch; batches never overlap), unless the publisher's
   * backlog is at its window: then the batch waits (see {@link waitForPublisher}), except on shutdown.
   */
  runBatch(): Promise<void> {
    const run = this.working.then(async () => {
      if (this.pending.size === 0) return;
      if (!this.stopping && this.publisher.backlog >= this.publisher.window) {
        this.waitForPublisher();
        return;
      }
      this.busy = true;
      const spans = [...this.pending.values()].slice(0, this.config.batchMaxMachines);
      for (const s of spans) this.pending.delete(s.machineId);
      try {
        await this.processSpans(spans);
      } catch (err) {
        this.fail('batch', err as Error);
      } finally {
        this.busy = false;
      }
    });
    this.working = run.then(() => this.schedule());
    return run;
  }

  /**
   * Backpressure from the broker: with TWIN_PUBLISH_MAX_INFLIGHT updates unacknowledged (or queued in the
   * publisher), no new batch is fetched. The announced spans stay pending (merged with newer ones; the
   * readings are in the database), lease rounds go on (they never wait on batches), and batching resumes
   * by itself once the backlog is under the window. Without this, a batch abandoned after the publish
   * stage's timeout was followed by the next one's publishes, piling up in the MQTT client for ever
   * under a broker slower than the readings (the soak's twin heap growth and 'drain' listener warning).
   */
  private waitForPublisher(): void {
    if (this.publisherWait) return;
    const since = Date.now();
    const { window } = this.publisher;
    this.publisherWait = this.publisher.whenBacklogAtMost(window - 1).then(() => {
      this.publisherWait = undefined;
      this.publisherWaits.waitedMs += Date.now() - since;
      if (!this.stopping) this.schedule();
    });
    this.publisherWaits.times++;
    if (Date.now() - this.publisherWaitLoggedAt < SKIPPED_LOG_INTERVAL_MS) return;
    const { times, waitedMs } = this.publisherWaits;
    this.logger.warn(
      `batches wait for the broker: ${this.publisher.backlog} twin updates unacknowledged or queued (window ` +
        `TWIN_PUBLISH_MAX_INFLIGHT ${window}); ${this.pending.size} machines' readings stay pending in the database. ` +
        `${times} waits since the last report, ${Math.round(waitedMs)} ms waited in the finished ones ` +
        `(twin_publish_backlog; next report in a minute at the earliest)`,
    );
    this.publisherWaits = { times: 0, waitedMs: 0 };
    this.publisherWaitLoggedAt = Date.now();
  }

  /** Waits for the publisher since the last line about them. */
  private publisherWaits = { times: 0, waitedMs: 0 };
  private publisherWaitLoggedAt = -Infinity;

  /**
   * One batch: machines of partitions still held, and with a model, get their readings fetched (at
   * most TWIN_BATCH_MAX_ROWS rows, oldest first; the remainder goes back to the pending batch) and
   * applied. Every await is bounded by TWIN_STAGE_TIMEOUT_MS.
   */
  private async processSpans(all: ReadingSpan[]): Promise<void> {
    const start = performance.now();
    await this.loadMachines(all.map((s) => s.machineId));
    const spans = this.withModels(all.filter((s) => this.ownsMachine(s.machineId)));
    let readings: TwinReading[];
    try {
      const fetched = await this.stage(this.repo.readings(spans, this.config.batchMaxRows), 'fetch');
      readings = fetched.readings;
      for (const s of fetched.rest) this.requeue(s);
      if (fetched.rest.length > 0)
        this.logger.debug(
          `fetch capped at ${this.config.batchMaxRows} rows: ${fetched.rest.length} machines continue next batch`,
        );
    } catch (err) {
      this.fail('fetch', err as Error);
      return;
    }
    // A partition lost while fetching (lease expired or handed over) is another instance's now.
    await this.apply(readings.filter((r) => this.ownsMachine(r.machineId)));
    this.metrics.batchSeconds.observe((performance.now() - start) / 1000);
  }

  /**
   * The spans worth fetching: those of machines the twin knows and has a model for, each with the
   * model's sensors (the only ones the twin reads; fetched one (machine, sensor) range at a time).
   * The others are counted (`twin_skipped_total{reason}`, in announced readings rows) and logged,
   * not fetched.
   */
  private withModels(spans: ReadingSpan[]): FetchSpan[] {
    const kept: FetchSpan[] = [];
    const skipped: Partial<Record<'unknown-machine' | 'no-model', { machines: number; rows: number }>> = {};
    for (const s of spans) {
      const machine = this.machineCache.get(s.machineId);
      const model = machine && this.registry.modelFor(machine.assetType);
      if (model) {
        kept.push({ ...s, sensors: model.sensors });
        continue;
      }
      const reason = !machine ? 'unknown-machine' : 'no-model';
      const n = (skipped[reason] ??= { machines: 0, rows: 0 });
      n.machines++;
      n.rows += s.count ?? 0;
    }
    const entries = Object.entries(skipped);
    for (const [reason, n] of entries) {
      this.metrics.skipped.inc({ reason }, n.rows);
      const total = (this.skippedSinceLog[reason] ??= { batches: 0, machines: 0, rows: 0 });
      total.batches++;
      total.machines += n.machines;
      total.rows += n.rows;
    }
    this.logSkipped();
    return kept;
  }

  /** Skips since the last line about them (a machine without a model is skipped in every batch). */
  private skippedSinceLog: Record<string, { batches: number; machines: number; rows: number }> = {};
  private skippedLoggedAt = -Infinity;

  /** One warning a minute at most, summing the skips since the last one (the metric counts every row). */
  private logSkipped(): void {
    const entries = Object.entries(this.skippedSinceLog);
    if (entries.length === 0 || Date.now() - this.skippedLoggedAt < SKIPPED_LOG_INTERVAL_MS) return;
    this.logger.warn(
      `skipped before fetching since the last report: ${entries
        .map(([r, n]) => `${r}: ${n.machines} machine spans, ${n.rows} rows in ${n.batches} batches`)
        .join('; ')} (twin_skipped_total counts them; next report in a minute at the earliest)`,
    );
    this.skippedSinceLog = {};
    this.skippedLoggedAt = Date.now();
  }

  /** Applies readings (already fetched) and publishes, stores and records the updates. */
  async apply(readings: readonly TwinReading[]): Promise<TwinUpdate[]> {
    // Slice by slice, with the event loop's turn in between (see sliceByMachine): a batch of thousands
    // of readings per machine is thousands of rounds. A machine whose partition went away meanwhile
    // (lease rounds run between slices) is left to its new owner.
    const updates: TwinUpdate[] = [];
    const parts: ProcessStats[] = [];
    const slices = sliceByMachine(readings, SLICE_READINGS_PER_MACHINE);
    for (const [i, slice] of slices.entries()) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const owned = i === 0 ? slice : slice.filter((r) => this.ownsMachine(r.machineId));
      const done = this.processor.process(owned, (id) => this.machineCache.get(id));
      for (const u of done.updates) updates.push(u);
      parts.push(done.stats);
    }
    const stats = mergeStats(parts);
    for (const [reason, n] of Object.entries(stats.rejected)) this.metrics.rejected.inc({ reason }, n);
    const rejectedTotal = Object.values(stats.rejected).reduce((a, b) => a + b, 0);
    if (rejectedTotal > 0)
      this.logger.warn(
        `batch of ${readings.length} readings: ${rejectedTotal} refused (${Object.entries(stats.rejected)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ')})`,
      );
    if (stats.outOfOrder > 0) this.metrics.outOfOrder.inc(stats.outOfOrder);
    for (const s of stats.solves) {
      this.metrics.batchMachines.observe(s.batch);
      this.metrics.nfe.observe(s.nfe);
      this.metrics.solverError.observe(s.errorEstimate);
    }
    this.forecastDue(updates);
    try {
      // Bounded: a QoS 1 publish settles on the broker's PUBACK, which may never come (a backed-up or
      // dead socket); the messages stay with the publisher and the MQTT clients, the batch goes on, and
      // the next one waits until the publisher's backlog is under its window (waitForPublisher).
      await this.stage(this.publisher.publish(updates), 'publish');
    } catch (err) {
      this.fail('publish', err as Error);
    }
    const now = Date.now();
    for (const u of updates) {
      this.metrics.latency.observe(Math.max(0, now - u.receivedAtMs) / 1000);
      this.dirty.add(u.machine.id);
    }
    this.metrics.updates.inc(updates.length);
    const machines = this.processor.machineCount;
    this.metrics.machines.set(machines);
    const bytes = tf.memory().numBytes;
    this.metrics.backendBytes.set(bytes);
    if (machines > 0) this.metrics.bytesPerMachine.set(bytes / machines);
    await this.storePredictions(updates);
    for (const l of this.listeners) l(updates);
    return updates;
  }

  private forecastDue(updates: TwinUpdate[]): void {
    const { intervalMs, horizonMs, points, samples } = this.config.forecast;
    if (intervalMs <= 0 || updates.length === 0) return;
    const now = Date.now();
    const due: string[] = [];
    for (const u of updates) {
      if (due.length >= FORECASTS_PER_BATCH) break;
      const last = this.lastForecast.get(u.machine.id);
      if (last !== undefined && now - last < intervalMs) continue;
      due.push(u.machine.id);
      this.lastForecast.set(u.machine.id, now);
    }
    if (due.length === 0) return;
    try {
      const forecasts = this.processor.forecast(
        due,
        { horizonMs, points, samples },
        (id) => this.machineCache.get(id),
        randn,
      );
      this.metrics.forecasts.inc(forecasts.length);
      TwinProcessor.attachForecasts(updates, forecasts);
    } catch (err) {
      this.fail('forecast', err as Error);
    }
  }

  private async storePredictions(updates: readonly TwinUpdate[]): Promise<void> {
    const interval = this.config.predictionsIntervalMs;
    const rows: TwinPredictionRow[] = [];
    for (const u of updates) {
      const m = u.message;
      const last = this.lastStored.get(m.machineId);
      if (interval > 0 && last !== undefined && m.ts - last < interval && m.ts >= last) continue;
      this.lastStored.set(m.machineId, m.ts);
      const sensors: TwinPredictionRow['sensors'] = {};
      for (const [name, p] of Object.entries(m.prediction))
        sensors[name] =
          m.residuals[name] !== undefined
            ? { ...p, z: m.residuals[name], value: p.mean + m.residuals[name] * p.std }
            : { ...p };
      rows.push({
        time: m.ts,
        machineId: m.machineId,
        modelVersion: m.modelVersion,
        anomalyScore: m.anomalyScore,
        nfe: m.nfe,
        solverError: m.solverError,
        sensors,
      });
    }
    try {
      for (const c of chunks(rows)) await this.stage(this.repo.savePredictions(c), 'storing predictions');
    } catch (err) {
      this.fail('store', err as Error);
    }
  }

  /** Machine descriptions for ids not cached yet (unknown ones are remembered for a while). */
  private async loadMachines(ids: readonly string[]): Promise<void> {
    const now = Date.now();
    const missing = [...new Set(ids)].filter(
      (id) => !this.machineCache.has(id) && !((this.unknownMachines.get(id) ?? 0) > now),
    );
    if (missing.length === 0) return;
    try {
      for (const c of chunks(missing))
        for (const m of await this.stage(this.repo.machines(c), 'loading machines')) this.machineCache.set(m.id, m);
      for (const id of missing)
        if (!this.machineCache.has(id)) this.unknownMachines.set(id, now + UNKNOWN_MACHINE_TTL_MS);
    } catch (err) {
      this.fail('fetch', err as Error);
    }
  }

  /** Writes the states changed since the last checkpoint (or `all` of them) to twin_states. */
  async checkpoint(ids?: Iterable<string>): Promise<number> {
    const which = ids ? [...ids] : [...this.dirty];
    if (which.length === 0) return 0;
    which.forEach((id) => this.dirty.delete(id));
    const snaps = this.processor.snapshot(which).filter((s) => Number.isFinite(s.state.timeMs));
    try {
      for (const c of chunks(snaps))
        await this.stage(
          this.repo.saveCheckpoints(
            c.map(({ state, model }) => ({
              machineId: state.machineId,
              modelId: model.id,
              time: new Date(state.timeMs),
              state: {
                h: Array.from(state.h),
                latentVar: Array.from(state.latentVar),
                assetType: model.assetType,
                modelVersion: model.version,
              },
              stepSize: state.stepUnits,
              updates: state.updates,
            })),
          ),
          'checkpoint',
        );
      this.metrics.checkpoints.inc(snaps.length);
      return snaps.length;
    } catch (err) {
      which.forEach((id) => this.dirty.add(id));
      this.fail('checkpoint', err as Error);
      return 0;
    }
  }

  /**
   * Restores the checkpoints of newly held partitions. It does not wait for the batch in progress
   * (lease rounds never wait on batches): batches take only machines of partitions held, and these
   * are held only once this returns.
   */
  private async restorePartitions(partitions: number[]): Promise<void> {
    const set = new Set(partitions);
    const ids = (await this.stage(this.repo.checkpointedMachines(), 'listing checkpoints')).filter((id) =>
      set.has(partitionOf(id, this.config.partitions)),
    );
    let restored = 0;
    for (const c of chunks(ids)) {
      const rows = await this.stage(this.repo.loadCheckpoints(c), 'loading checkpoints');
      restored += this.processor.restore(
        rows.map((r) => ({
          assetType: String(r.state.assetType),
          modelVersion: String(r.state.modelVersion),
          state: {
            machineId: r.machineId,
            h: r.state.h as number[],
            latentVar: r.state.latentVar as number[],
            timeMs: new Date(r.time).getTime(),
            stepUnits: Number(r.stepSize ?? 0),
            updates: Number(r.updates ?? 0),
          },
        })),
      );
    }
    // The manager owns the partitions once this returns (restored first): count them in already.
    const held = this.partitions.ownedPartitions.length + partitions.length;
    this.metrics.partitions.set(held);
    this.logger.log(
      `holds ${partitions.length} more partitions (${held} in all); restored ${restored} of ${ids.length} twins`,
    );
  }

  /**
   * Checkpoints and drops the twins of partitions no longer held (the manager has already stopped
   * owning them, so the batch in progress applies nothing more to them). It does not wait for that
   * batch: a lease round never waits on batches.
   */
  private async releasePartitions(partitions: number[]): Promise<void> {
    const set = new Set(partitions);
    const inPartitions = (id: string) => set.has(partitionOf(id, this.config.partitions));
    for (const id of [...this.pending.keys()]) if (inPartitions(id)) this.pending.delete(id);
    const ids: string[] = [];
    for (const bank of this.processor.allBanks().values()) ids.push(...bank.machines().filter(inPartitions));
    await this.checkpoint(ids);
    this.processor.drop(ids);
    this.metrics.partitions.set(this.partitions.ownedPartitions.length);
    this.logger.log(`gave up ${partitions.length} partitions (${ids.length} twins checkpointed)`);
  }

  private async pollModels(): Promise<void> {
    try {
      await this.registry.poll();
    } catch (err) {
      this.fail('models', err as Error);
    }
  }

  /** Forgets a machine's twin (state and checkpoint); its next reading starts a fresh one. */
  async reset(machineId: string): Promise<boolean> {
    await this.working;
    const had = !Number.isNaN(this.processor.timeOf(machineId));
    this.processor.drop([machineId]);
    this.dirty.delete(machineId);
    this.lastStored.delete(machineId);
    this.lastForecast.delete(machineId);
    const deleted = await this.repo.deleteCheckpoint(machineId);
    return had || deleted;
  }

  /**
   * Forecast of a machine this instance holds: quantile trajectories and RUL (null when it has no twin
   * here — unknown, not yet updated, or in another instance's partition).
   */
  async forecast(
    machineId: string,
    options: Partial<{ horizonMs: number; points: number; samples: number }> = {},
  ): Promise<MachineForecast | null> {
    await this.loadMachines([machineId]);
    const f = this.processor.forecast(
      [machineId],
      {
        horizonMs: options.horizonMs ?? this.config.forecast.horizonMs,
        points: options.points ?? this.config.forecast.points,
        samples: options.samples ?? this.config.forecast.samples,
      },
      (id) => this.machineCache.get(id),
      randn,
    );
    if (f.length > 0) this.metrics.forecasts.inc();
    return f[0] ?? null;
  }

  /** Forgets cached machine descriptions (after machines were edited). */
  invalidateMachines(): void {
    this.machineCache.clear();
    this.unknownMachines.clear();
  }

  private fail(stage: string, err: Error): void {
    this.metrics.errors.inc({ stage });
    this.logger.error(`${stage}: ${err.message}`);
  }
}
