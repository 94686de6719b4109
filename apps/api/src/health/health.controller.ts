import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/auth.decorators';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@continuum/messaging';
import { DatabaseHealthIndicator } from '@continuum/persistence';

/** `GET /health`: 200 with `status: ok` when the database and the broker answer, 503 otherwise. */
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
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
