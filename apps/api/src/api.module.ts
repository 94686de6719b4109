import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Infrastructure } from '@continuum/runtime';
import { HealthController } from './health/health.controller';
import { METRICS_REGISTRY, MetricsController } from './metrics/metrics.controller';

/** The api app: HTTP endpoints (health now; REST, socket.io and the dashboard as they arrive). */
@Module({})
export class ApiModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: ApiModule,
      imports: [TerminusModule, infra.modules.persistence, infra.modules.messaging],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: METRICS_REGISTRY, useValue: infra.metrics }],
    };
  }
}
