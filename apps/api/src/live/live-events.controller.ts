import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  InternalEvent,
  alertMessageSchema,
  readingsStoredEventSchema,
  twinMessageSchema,
  type TwinMessage,
} from '@continuum/contracts';
import type { LiveTrainingProgress } from './live.events';
import { LiveService } from './live.service';
import { TwinSummaries } from '../twin/twin-summaries';

/** The training app's progress event (`InternalEvent.TrainingProgress` once the contract lands). */
export const TRAINING_PROGRESS_EVENT = 'continuum/events/training-progress';

/** Internal events the api forwards to `/live` (and twin updates it remembers for twin summaries). */
@Controller()
export class LiveEventsController {
  constructor(
    private readonly live: LiveService,
    private readonly summaries: TwinSummaries,
  ) {}

  @EventPattern(InternalEvent.ReadingsStored)
  onReadingsStored(@Payload() payload: unknown): void {
    const parsed = readingsStoredEventSchema.safeParse(payload);
    if (parsed.success) this.live.readingsStored(parsed.data);
  }

  @EventPattern(InternalEvent.TwinUpdated)
  onTwinUpdated(@Payload() payload: unknown): void {
    const parsed = twinMessageSchema.safeParse(payload);
    if (!parsed.success) return;
    const message: TwinMessage = parsed.data;
    this.summaries.remember(message);
    this.live.twinUpdated(message);
  }

  @EventPattern(InternalEvent.AlertChanged)
  onAlertChanged(@Payload() payload: unknown): void {
    const parsed = alertMessageSchema.safeParse(payload);
    if (parsed.success) this.live.alertChanged(parsed.data);
  }

  @EventPattern(TRAINING_PROGRESS_EVENT)
  onTrainingProgress(@Payload() payload: unknown): void {
    const p = payload as Partial<LiveTrainingProgress> | null;
    if (p && typeof p.jobId === 'string' && typeof p.status === 'string')
      this.live.trainingProgress(p as LiveTrainingProgress);
  }
}
