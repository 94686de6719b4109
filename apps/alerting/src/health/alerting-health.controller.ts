import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@continuum/messaging';
import { DatabaseHealthIndicator } from '@continuum/persistence';

/** `GET /health` of alerting running alone: database and broker. */
@Controller('health')
export class AlertingHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.database.check(), () => this.broker.check()]);
  }
}
