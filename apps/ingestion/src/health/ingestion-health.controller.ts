import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@continuum/messaging';
import { DatabaseHealthIndicator } from '@continuum/persistence';
import { IngestionHealthIndicator } from './ingestion.health';

/** `GET /health` of ingestion running alone: database, broker and the pipeline (503 while degraded). */
@Controller('health')
export class IngestionHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
    private readonly ingestion: IngestionHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.database.check(), () => this.broker.check(), () => this.ingestion.check()]);
  }
}
