import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { IngestionConfig } from '@continuum/config';
import { InternalEvent, type ReadingsStoredEvent } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import type { DeadLetter, MachineEvent, Reading } from '@continuum/persistence';
import type { DecodedMessage, SeenMachine } from '../decoding/decoded-message';
import { MessageDecoder } from '../decoding/message.decoder';
import { IngestionMetrics } from '../metrics/ingestion.metrics';
import { IngestionRepository, type BatchWrite } from '../storage/ingestion.repository';
import { ReadingColumns } from '../storage/reading-columns';

export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');

/** One message as the consumer hands it over. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Epoch ms. */
  receivedAt: number;
  /** Acknowledges the message to the broker; called once its batch is committed. null for QoS 0. */
  ack: (() => void) | null;
}

/** A committed batch, for listeners (the benchmark measures latency with it). */
export interface CommittedBatch {
  /** The readings written, column by column. */
  columns: ReadingColumns;
  /** The same readings as objects, made on first access. */
  readonly readings: readonly Reading[];
  messages: number;
  inserted: number;
  committedAt: number;
}

interface PendingMessage {
  topic: string;
  payload: Buffer;
  payloadBytes: number;
  receivedAt: number;
  /** The message's readings: rows [from, to) of its batch's columns. */
  from: number;
  to: number;
  machines: SeenMachine[];
  events: MachineEvent[];
  stale: { machineId: string; since: number }[];
  rejection?: { reason: string; detail: string };
}

/**
 * A run of consecutive plain messages (JSON, accepted, no events or deaths) folded into one
 * entry: their machines merged, by id. Folding keeps one small entry per run instead of one
 * entry per message alive until the commit, and gives the same result in {@link prepare},
 * whose per-machine steps do not depend on order within such a run.
 */
interface PlainRun {
  entry: PendingMessage;
  machines: Map<string, SeenMachine>;
}

class Batch {
  /** Entries in arrival order: one per message, except runs of plain messages (one per run). */
  readonly messages: PendingMessage[] = [];
  /** Messages taken (entries fold several). */
  count = 0;
  /** The run the next plain message joins; null after any other message. */
  plainRun: PlainRun | null = null;
  /** The readings of all its messages, in order. */
  readonly readings = new ReadingColumns();
  readonly acks: (() => void)[] = [];
  rows = 0;
  /** Memory units held (readings, at least one per message). */
  units = 0;
  /** Messages of the batch that came on Sparkplug topics (the rest are JSON); counted at sealing. */
  sparkplugMessages = 0;
}

/**
 * The ingestion pipeline: decodes each message (decisions only, no I/O), batches messages by
 * size (INGESTION_BATCH_MAX_ROWS) and time (INGESTION_BATCH_MAX_MS), writes each batch in one
 * transaction through {@link IngestionRepository}, and only then acknowledges its QoS 1
 * messages and announces it (`InternalEvent.ReadingsStored`).
 *
 * Memory is bounded: {@link accept} returns a promise while more than INGESTION_QUEUE_MAX_ROWS
 * readings wait, and the consumer stops reading from the broker until it resolves. A failed
 * write is retried with exponential backoff, never dropped; meanwhile {@link degraded} is set.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger('Ingestion');
  readonly decoder: MessageDecoder;
  private current: Batch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly sealed: Batch[] = [];
  /**
   * The open batch's time window ran out while a sealed batch was still waiting for a writer: it
   * stays open (growing up to INGESTION_BATCH_MAX_ROWS) and is sealed when the queue empties.
   */
  private overdue = false;
  private writing = 0;
  private heldUnits = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private failingSince: number | null = null;
  private lastError: string | null = null;
  private stopping = false;
  private readonly knownSensors = new Map<string, Set<string>>();
  private readonly registeredMachines = new Set<string>();
  private readonly listeners: ((batch: CommittedBatch) => void)[] = [];
  private gapsReported = 0;
  private readonly skippedReported = { 'not-numeric': 0, null: 0, 'non-finite': 0 };

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly repository: IngestionRepository,
    private readonly metrics: IngestionMetrics,
    @Optional() private readonly events?: EventBus,
  ) {
    this.decoder = new MessageDecoder({
      maxPayloadBytes: config.maxPayloadBytes,
      maxFutureMs: config.maxFutureMs,
      maxAgeMs: config.maxAgeMs,
    });
  }

  /**
   * Takes one message. Returns undefined when there is room for more, or a promise that resolves
   * once the queue has drained below its bound (the caller must not read more until then).
   */
  accept(message: InboundMessage): Promise<void> | undefined {
    const sparkplug = message.topic.startsWith('spBv1.0/');
    const decoded = this.decoder.decode(message.topic, message.payload, message.receivedAt);
    if (sparkplug) this.reportSparkplugCounters();
    const keep = decoded.rejection ? Math.min(message.payload.length, this.config.deadLetterPayloadBytes) : 0;
    const batch = (this.current ??= new Batch());
    const from = batch.readings.length;
    for (const r of decoded.readings) batch.readings.push(r.machineId, r.sensor, r.time, r.value);
    batch.count++;
    const plain =
      !sparkplug &&
      !decoded.rejection &&
      decoded.events.length === 0 &&
      decoded.stale.length === 0 &&
      !this.config.requireRegistered;
    if (!plain || !this.joinPlainRun(batch, decoded.machines))
      this.pushEntry(batch, message, decoded, from, keep, plain);
    if (sparkplug) batch.sparkplugMessages++;
    if (message.ack) batch.acks.push(message.ack);
    batch.rows += decoded.readings.length;
    const units = decoded.readings.length > 0 ? decoded.readings.length : 1;
    batch.units += units;
    this.heldUnits += units;
    if (batch.rows >= this.config.batchMaxRows) this.seal();
    else if (!this.overdue) this.timer ??= setTimeout(() => this.windowEnded(), this.config.batchMaxMs);
    if (this.heldUnits < this.config.queueMaxRows) return undefined;
    this.metrics.queueRows.set(this.heldUnits);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Adds a plain message's machines to the batch's open run; false when there is none or a machine's plant differs. */
  private joinPlainRun(batch: Batch, machines: readonly SeenMachine[]): boolean {
    const run = batch.plainRun;
    if (!run) return false;
    for (const s of machines) {
      const seen = run.machines.get(s.id);
      if (seen && seen.plantId !== s.plantId) return false;
    }
    for (const s of machines) {
      const seen = run.machines.get(s.id);
      if (!seen) {
        const copy = { id: s.id, plantId: s.plantId, sensors: [...s.sensors] };
        run.machines.set(s.id, copy);
        run.entry.machines.push(copy);
      } else for (const x of s.sensors) if (!seen.sensors.includes(x)) seen.sensors.push(x);
    }
    run.entry.to = batch.readings.length;
    return true;
  }

  private pushEntry(
    batch: Batch,
    message: InboundMessage,
    decoded: DecodedMessage,
    from: number,
    keep: number,
    plain: boolean,
  ): void {
    const pending: PendingMessage = {
      topic: message.topic,
      // A refused payload is kept cut to the dead-letter size (copied, so the 10 MB buffer can go).
      payload: keep > 0 ? Buffer.from(message.payload.subarray(0, keep)) : EMPTY,
      payloadBytes: message.payload.length,
      receivedAt: message.receivedAt,
      from,
      to: batch.readings.length,
      machines: decoded.machines,
      events: decoded.events,
      stale: decoded.stale,
      rejection: decoded.rejection,
    };
    batch.messages.push(pending);
    batch.plainRun = null;
    if (plain) {
      // Opens a run: its entry owns copies, so that later messages can be merged into them.
      pending.machines = pending.machines.map((s) => ({ id: s.id, plantId: s.plantId, sensors: [...s.sensors] }));
      const byId = new Map<string, SeenMachine>();
      for (const s of pending.machines) if (!byId.has(s.id)) byId.set(s.id, s);
      // A message naming a machine twice (not made by the decoders) stays an entry of its own.
      if (byId.size === pending.machines.length) batch.plainRun = { entry: pending, machines: byId };
    }
  }

  /** Called after every committed batch. */
  onCommitted(listener: (batch: CommittedBatch) => void): void {
    this.listeners.push(listener);
  }

  /** Readings (and refused messages) received and not yet committed. */
  get queued(): number {
    return this.heldUnits;
  }

  /** Why ingestion is degraded (database writes failing), or null when it is not. */
  get degraded(): { since: number; error: string; queued: number } | null {
    return this.failingSince === null
      ? null
      : { since: this.failingSince, error: this.lastError ?? 'unknown', queued: this.heldUnits };
  }

  /** Writes what is pending; resolves when nothing is left (or after `timeoutMs`). */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    this.seal();
    if (this.heldUnits === 0 && this.writing === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return done;
  }

  /** Stops retrying failed writes (shutdown); what is not committed stays unacknowledged and is redelivered. */
  stop(): void {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * The open batch's time window (INGESTION_BATCH_MAX_MS) ended. It is sealed unless a sealed batch
   * still waits for a writer: then writes are behind (slow, or failing during an outage) and the
   * open batch keeps taking messages up to INGESTION_BATCH_MAX_ROWS, so that a backlog is written
   * in a few large transactions afterwards instead of one per time window (a 30 s outage at 50 ms
   * windows left hundreds of one- or two-message batches, drained at the arrival rate).
   */
  private windowEnded(): void {
    this.timer = null;
    if (this.sealed.length > 0) this.overdue = true;
    else this.seal();
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.overdue = false;
    if (!this.current) return;
    // Counted per batch, not per message: prom-client's labelled inc costs a label lookup each time.
    const { count, sparkplugMessages } = this.current;
    if (sparkplugMessages > 0) this.metrics.received.inc({ kind: 'sparkplug' }, sparkplugMessages);
    if (count > sparkplugMessages) this.metrics.received.inc({ kind: 'json' }, count - sparkplugMessages);
    this.metrics.queueRows.set(this.heldUnits);
    this.sealed.push(this.current);
    this.current = null;
    this.pump();
  }

  private pump(): void {
    if (this.overdue && this.sealed.length === 0 && this.writing < this.config.writers) {
      this.seal(); // pumps again
      return;
    }
    while (this.writing < this.config.writers && this.sealed.length > 0) {
      const batch = this.sealed.shift()!;
      this.writing++;
      void this.writeWithRetry(batch).finally(() => {
        this.writing--;
        this.pump();
        if (this.writing === 0 && this.sealed.length === 0 && !this.current) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async writeWithRetry(batch: Batch): Promise<void> {
    let delay = this.config.retryMinMs;
    for (;;) {
      const started = process.hrtime.bigint();
      try {
        const { write, plants } = await this.prepare(batch);
        const inserted = await this.repository.write(write);
        this.committed(batch, write, plants, inserted, Number(process.hrtime.bigint() - started) / 1e9);
        return;
      } catch (err) {
        this.metrics.writeErrors.inc();
        this.lastError = (err as Error).message.split('\n')[0];
        if (this.failingSince === null) {
          this.failingSince = Date.now();
          this.metrics.degraded.set(1);
          this.logger.warn(`database write failed, retrying with backoff (queue ${this.heldUnits}): ${this.lastError}`);
        }
        if (this.stopping) return;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.config.retryMaxMs);
      }
    }
  }

  /** Turns a batch into rows: refusals into dead letters, and (if required) unknown machines refused. */
  private async prepare(batch: Batch): Promise<{ write: BatchWrite; plants: Map<string, string> }> {
    if (this.config.requireRegistered) {
      const unknown = new Set<string>();
      for (const m of batch.messages)
        for (const s of m.machines) if (!this.registeredMachines.has(s.id)) unknown.add(s.id);
      if (unknown.size > 0) {
        const found = await this.repository.registered([...unknown]);
        for (const id of found) this.registeredMachines.add(id);
      }
    }
    const write: BatchWrite = { readings: batch.readings, machines: [], deadLetters: [], events: [], stale: [] };
    // Readings of messages refused here (unknown machines) are left out of the columns.
    let kept: ReadingColumns | null = null;
    let keptUpTo = 0;
    const machines = new Map<string, SeenMachine>();
    const stale = new Map<string, number>();
    const plants = new Map<string, string>();
    for (const m of batch.messages) {
      let rejection = m.rejection;
      if (!rejection && this.config.requireRegistered) {
        const unknown = m.machines.find((s) => !this.registeredMachines.has(s.id));
        if (unknown) rejection = { reason: 'unknown-machine', detail: `machine ${unknown.id} is not registered` };
      }
      if (rejection) {
        write.deadLetters.push(this.deadLetter(m, rejection));
        if (m.to > m.from) {
          kept ??= new ReadingColumns();
          kept.append(batch.readings, keptUpTo, m.from);
          keptUpTo = m.to;
        }
        continue;
      }
      for (const e of m.events) write.events.push(e);
      for (const s of m.machines) {
        plants.set(s.id, s.plantId);
        stale.delete(s.id);
        const known = this.knownSensors.get(s.id);
        const fresh = s.sensors.filter((x) => !known?.has(x));
        if (known && fresh.length === 0 && !known.has(STALE)) continue;
        const seen = machines.get(s.id) ?? { id: s.id, plantId: s.plantId, sensors: [] };
        for (const x of s.sensors) if (!seen.sensors.includes(x)) seen.sensors.push(x);
        machines.set(s.id, seen);
      }
      for (const s of m.stale) stale.set(s.machineId, s.since);
    }
    if (kept) {
      kept.append(batch.readings, keptUpTo);
      write.readings = kept;
    }
    write.machines = [...machines.values()];
    write.stale = [...stale].map(([machineId, since]) => ({ machineId, since }));
    return { write, plants };
  }

  private deadLetter(m: PendingMessage, rejection: { reason: string; detail: string }): DeadLetter {
    return {
      source: m.topic,
      reason: rejection.reason,
      detail: rejection.detail,
      payload: m.payload,
      payloadBytes: m.payloadBytes,
      receivedAt: new Date(m.receivedAt),
    };
  }

  private committed(
    batch: Batch,
    write: BatchWrite,
    plants: Map<string, string>,
    inserted: number,
    seconds: number,
  ): void {
    const committedAt = Date.now();
    for (const ack of batch.acks) ack();
    for (const s of write.machines) {
      const known = this.knownSensors.get(s.id) ?? new Set<string>();
      known.delete(STALE);
      for (const x of s.sensors) known.add(x);
      this.knownSensors.set(s.id, known);
    }
    for (const s of write.stale) {
      const known = this.knownSensors.get(s.machineId);
      if (known) known.add(STALE);
      else this.knownSensors.set(s.machineId, new Set([STALE]));
    }
    if (this.failingSince !== null) {
      this.logger.log(`database writes succeed again after ${Date.now() - this.failingSince} ms`);
      this.failingSince = null;
      this.lastError = null;
      this.metrics.degraded.set(0);
    }
    this.heldUnits -= batch.units;
    this.metrics.queueRows.set(this.heldUnits);
    this.metrics.accepted.inc(batch.count - write.deadLetters.length);
    for (const d of write.deadLetters) this.metrics.rejected.inc({ reason: d.reason });
    this.metrics.rowsWritten.inc(inserted);
    this.metrics.rowsDuplicate.inc(write.readings.length - inserted);
    this.metrics.batchRows.observe(write.readings.length);
    this.metrics.batchSeconds.observe(seconds);
    if (this.heldUnits < this.config.queueMaxRows * 0.8 && this.waiters.length > 0) {
      for (const w of this.waiters.splice(0)) w();
    }
    const columns = write.readings;
    if (columns.length > 0) this.announce(columns, plants, committedAt);
    let readings: Reading[] | undefined;
    for (const listener of this.listeners)
      listener({
        columns,
        get readings() {
          return (readings ??= columns.toReadings());
        },
        messages: batch.count,
        inserted,
        committedAt,
      });
  }

  private announce(columns: ReadingColumns, plants: Map<string, string>, committedAt: number): void {
    if (!this.events) return;
    const spans = new Map<string, ReadingsStoredEvent['machines'][number]>();
    const { machineIds, times } = columns;
    for (let i = 0; i < machineIds.length; i++) {
      const machineId = machineIds[i];
      const time = times[i];
      const span = spans.get(machineId);
      if (span) {
        if (time < span.from) span.from = time;
        if (time > span.to) span.to = time;
        span.count++;
      } else {
        spans.set(machineId, { machineId, plantId: '', from: time, to: time, count: 1 });
      }
    }
    for (const span of spans.values()) span.plantId = plants.get(span.machineId) ?? '';
    this.events
      .emit(InternalEvent.ReadingsStored, { machines: [...spans.values()], committedAt })
      .catch((err: Error) => this.logger.warn(`could not announce a stored batch: ${err.message}`));
  }

  private reportSparkplugCounters(): void {
    const sp = this.decoder.sparkplug;
    if (sp.gaps !== this.gapsReported) {
      this.metrics.seqGaps.inc(sp.gaps - this.gapsReported);
      this.gapsReported = sp.gaps;
    }
    for (const why of ['not-numeric', 'null', 'non-finite'] as const) {
      if (sp.skipped[why] !== this.skippedReported[why]) {
        this.metrics.metricsSkipped.inc({ why }, sp.skipped[why] - this.skippedReported[why]);
        this.skippedReported[why] = sp.skipped[why];
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);
/** Marks a machine known to be stale in the sensor cache (its next data must clear the flag). */
const STALE = '\u0000stale';
