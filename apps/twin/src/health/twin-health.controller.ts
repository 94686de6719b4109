import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@continuum/messaging';
import { DatabaseHealthIndicator } from '@continuum/persistence';
import { TwinHealthIndicator } from './twin-health.indicator';

/** `GET /health` of the twin running alone: database, broker and its lease loop ({@link TwinHealthIndicator}). */
@Controller('health')
export class TwinHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
    private readonly twin: TwinHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.database.check(), () => this.broker.check(), () => this.twin.check()]);
  }
}
