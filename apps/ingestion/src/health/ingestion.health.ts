import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { IngestionService } from '../pipeline/ingestion.service';

/**
 * `ingestion: up` while batches commit; `down` with `state: degraded` while database writes
 * fail (messages are then held unacknowledged in the bounded queue and in the broker).
 */
@Injectable()
export class IngestionHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly service: IngestionService,
  ) {}

  check(key = 'ingestion') {
    const session = this.health.check(key);
    const degraded = this.service.degraded;
    if (!degraded) return session.up({ state: 'ok', queued: this.service.queued });
    return session.down({
      state: 'degraded',
      message: `database writes failing since ${new Date(degraded.since).toISOString()}: ${degraded.error}`,
      queued: degraded.queued,
    });
  }
}
