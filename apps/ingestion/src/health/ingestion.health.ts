import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { TelemetryConsumer } from '../mqtt/telemetry.consumer';
import { IngestionService } from '../pipeline/ingestion.service';

/**
 * `ingestion: up` while batches commit and the device subscription stands; `down` with
 * `state: degraded` while database writes fail (messages are then held unacknowledged in the
 * bounded queue and in the broker), and with `state: unsubscribed` while the consumer has no
 * granted subscription on its current connection (broker unreachable, or reconnected and not yet
 * subscribed again): an ingestion that is connected but deaf is not healthy.
 */
@Injectable()
export class IngestionHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly service: IngestionService,
    private readonly consumer: TelemetryConsumer,
  ) {}

  check(key = 'ingestion') {
    const session = this.health.check(key);
    const degraded = this.service.degraded;
    if (!this.consumer.subscribed)
      return session.down({
        state: 'unsubscribed',
        message: this.consumer.connected
          ? 'connected to the MQTT broker, device subscription not granted yet'
          : 'device consumer not connected to the MQTT broker',
        queued: this.service.queued,
      });
    if (!degraded) return session.up({ state: 'ok', queued: this.service.queued });
    return session.down({
      state: 'degraded',
      message: `database writes failing since ${new Date(degraded.since).toISOString()}: ${degraded.error}`,
      queued: degraded.queued,
    });
  }
}
