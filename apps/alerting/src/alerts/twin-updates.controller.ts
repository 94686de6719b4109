import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InternalEvent, twinMessageSchema, type TwinMessage } from '@continuum/contracts';
import { AlertsService } from './alerts.service';

/** Receives the twin's `TwinUpdated` events from the internal bus. */
@Controller()
export class TwinUpdatesController {
  constructor(private readonly alerts: AlertsService) {}

  @EventPattern(InternalEvent.TwinUpdated)
  async onTwinUpdated(@Payload() payload: TwinMessage): Promise<void> {
    const parsed = twinMessageSchema.safeParse(payload);
    if (!parsed.success) return; // not ours to dead-letter: the twin validated what it published
    await this.alerts.handleTwinUpdate(parsed.data);
  }
}
