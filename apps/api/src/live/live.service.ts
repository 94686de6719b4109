import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@continuum/config';
import type { AlertMessage, ReadingsStoredEvent, TwinMessage } from '@continuum/contracts';
import { ReadingsRepository, type WorkOrderEntity } from '@continuum/persistence';
import { Coalescer } from './coalescer';
import { TRAINING_ROOM, machineRoom, plantRoom, type LiveReadings, type LiveTrainingProgress } from './live.events';
import { LiveGateway } from './live.gateway';

/** Readings sent in one `reading` event at most (per machine and flush). */
const MAX_READINGS_PER_EVENT = 2000;

interface Span {
  plantId: string;
  from: number;
  to: number;
}

/**
 * Feeds the `/live` gateway from the internal bus and the api's own changes, with server-side
 * coalescing so that a busy plant cannot flood a browser: twin updates and readings are sent at
 * most API_LIVE_EVENTS_PER_SECOND times a second per machine (twin: the latest wins; readings: the
 * stored span is merged and read once, only when someone is in the machine's or plant's room);
 * alerts and training progress are coalesced per alert / job on the same period.
 */
@Injectable()
export class LiveService implements OnApplicationShutdown {
  private readonly logger = new Logger('Live');
  private readonly twins: Coalescer<string, TwinMessage>;
  private readonly readings: Coalescer<string, Span>;
  private readonly alerts: Coalescer<string, AlertMessage>;
  private readonly training: Coalescer<string, LiveTrainingProgress>;
  /** Last reading time sent per machine, so that consecutive spans do not repeat points. */
  private readonly sentUntil = new Map<string, number>();

  constructor(
    private readonly gateway: LiveGateway,
    private readonly readingsRepo: ReadingsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const periodMs = Math.max(10, Math.round(1000 / config.api.liveEventsPerSecond));
    this.twins = new Coalescer(periodMs, (machineId, msg) =>
      this.gateway.clientSend('twin', [plantRoom(msg.plantId), machineRoom(machineId)], msg),
    );
    this.readings = new Coalescer(
      periodMs,
      (machineId, span) => void this.sendReadings(machineId, span),
      (a, b) => ({ plantId: b.plantId, from: Math.min(a.from, b.from), to: Math.max(a.to, b.to) }),
    );
    this.alerts = new Coalescer(periodMs, (_, alert) =>
      this.gateway.clientSend('alert', [plantRoom(alert.plantId), machineRoom(alert.machineId)], alert),
    );
    this.training = new Coalescer(periodMs, (_, p) => this.gateway.clientSend('training-progress', TRAINING_ROOM, p));
  }

  readingsStored(event: ReadingsStoredEvent): void {
    for (const m of event.machines) this.readings.offer(m.machineId, { plantId: m.plantId, from: m.from, to: m.to });
  }

  twinUpdated(message: TwinMessage): void {
    this.twins.offer(message.machineId, message);
  }

  alertChanged(message: AlertMessage): void {
    this.alerts.offer(message.id, message);
  }

  trainingProgress(progress: LiveTrainingProgress): void {
    this.training.offer(progress.jobId, progress);
  }

  /** Work orders change only through the api: sent at once. */
  workOrderChanged(order: WorkOrderEntity, plantId: string, deleted = false): void {
    const ms = (d: Date | null) => (d ? new Date(d).getTime() : null);
    this.gateway.clientSend('work-order', [plantRoom(plantId), machineRoom(order.machineId)], {
      id: order.id,
      plantId,
      machineId: order.machineId,
      title: order.title,
      status: order.status,
      priority: order.priority,
      crew: order.crew ?? null,
      windowStart: ms(order.windowStart),
      windowEnd: ms(order.windowEnd),
      deleted,
    });
  }

  private async sendReadings(machineId: string, span: Span): Promise<void> {
    const rooms = [plantRoom(span.plantId), machineRoom(machineId)];
    if (!this.gateway.hasListeners(rooms)) {
      this.sentUntil.delete(machineId);
      return;
    }
    const from = Math.max(span.from, (this.sentUntil.get(machineId) ?? -Infinity) + 1);
    if (from > span.to) return;
    try {
      const rows = await this.readingsRepo.range(
        { machineId, from: new Date(from), to: new Date(span.to + 1) },
        MAX_READINGS_PER_EVENT,
      );
      if (rows.length === 0) return;
      const payload: LiveReadings = { plantId: span.plantId, machineId, sensors: {} };
      for (const r of rows) {
        const s = (payload.sensors[r.sensor] ??= { t: [], v: [] });
        s.t.push(r.time);
        s.v.push(r.value);
      }
      this.sentUntil.set(machineId, rows[rows.length - 1].time);
      this.gateway.clientSend('reading', rooms, payload);
    } catch (err) {
      this.logger.warn(`live readings of ${machineId}: ${(err as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    for (const c of [this.twins, this.readings, this.alerts, this.training]) c.stop();
  }
}
