import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InternalEvent, readingsStoredEventSchema, twinResetEventSchema } from '@continuum/contracts';
import { TwinMetrics } from './metrics/twin.metrics';
import { TwinService } from './service/twin.service';

/** Receives ingestion's ReadingsStored announcements and the api's twin resets from the internal event bus. */
@Controller()
export class TwinEventsController {
  private readonly logger = new Logger('Twin');

  constructor(
    private readonly twin: TwinService,
    private readonly metrics: TwinMetrics,
  ) {}

  @EventPattern(InternalEvent.ReadingsStored)
  onReadingsStored(@Payload() payload: unknown): void {
    const parsed = readingsStoredEventSchema.safeParse(payload);
    if (!parsed.success) {
      this.metrics.rejected.inc({ reason: 'bad-event' });
      this.logger.warn(`malformed ReadingsStored event ignored: ${parsed.error.issues[0]?.message}`);
      return;
    }
    this.twin.enqueue(parsed.data);
  }

  @EventPattern(InternalEvent.TwinReset)
  async onTwinReset(@Payload() payload: unknown): Promise<void> {
    const parsed = twinResetEventSchema.safeParse(payload);
    if (!parsed.success) {
      this.metrics.rejected.inc({ reason: 'bad-event' });
      this.logger.warn(`malformed TwinReset event ignored: ${parsed.error.issues[0]?.message}`);
      return;
    }
    const had = await this.twin.reset(parsed.data.machineId);
    this.logger.log(`twin of ${parsed.data.machineId} reset${had ? '' : ' (it had none here)'}`);
  }
}
