import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import {
  AlertRulesRepository,
  AlertsRepository,
  DeviceCredentialsRepository,
  ModelsRepository,
  TrainingJobsRepository,
  TwinPredictionsRepository,
} from '@continuum/persistence';
import { DataSource } from 'typeorm';
import type { Infrastructure } from '@continuum/runtime';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { RequestValidationPipe } from './common/request-validation.pipe';
import { DeviceCredentialsController } from './devices/device-credentials.controller';
import { DeviceCredentialsService } from './devices/device-credentials.service';
import { HealthController } from './health/health.controller';
import { MachinesController } from './machines/machines.controller';
import { MachinesService } from './machines/machines.service';
import { METRICS_REGISTRY, MetricsController } from './metrics/metrics.controller';
import { TelemetryController } from './telemetry/telemetry.controller';
import { TelemetryService } from './telemetry/telemetry.service';
import { MaintenanceController } from './maintenance/maintenance.controller';
import { MaintenanceService } from './maintenance/maintenance.service';
import { WorkOrdersController } from './work-orders/work-orders.controller';
import { WorkOrdersService } from './work-orders/work-orders.service';
import { AlertRulesController } from './alert-rules/alert-rules.controller';
import { AlertRulesService } from './alert-rules/alert-rules.service';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsService } from './alerts/alerts.service';
import { HttpThrottlerGuard } from './common/http-throttler.guard';
import { serveDashboard } from './dashboard/dashboard';
import { LiveEventsController } from './live/live-events.controller';
import { LiveGateway } from './live/live.gateway';
import { LiveService } from './live/live.service';
import { TwinController } from './twin/twin.controller';
import { TwinService } from './twin/twin.service';
import { TwinSummaries } from './twin/twin-summaries';
import { TwinForecaster } from './twin/twin-forecaster';
import { ModelsController } from './models/models.controller';
import { ModelsService } from './models/models.service';
import { ModelVersionsRepository } from './models/model-versions.repository';
import { TrainingCatalogRepository } from './training-jobs/training-catalog.repository';
import { TrainingJobsController } from './training-jobs/training-jobs.controller';
import { TrainingJobsService } from './training-jobs/training-jobs.service';

/** Repositories of libs/persistence that PersistenceModule does not provide, built on its DataSource. */
const REPOSITORIES = [
  AlertsRepository,
  AlertRulesRepository,
  TwinPredictionsRepository,
  DeviceCredentialsRepository,
  TrainingJobsRepository,
  ModelsRepository,
].map((Repo) => ({
  provide: Repo,
  useFactory: (ds: DataSource) => new Repo(ds),
  inject: [DataSource],
}));

/** Base path of the REST API; /health and /metrics stay at the root. */
export const API_PREFIX = 'api/v1';

/**
 * The api app: REST under /api/v1 (bearer API keys with roles, validation, RFC 7807 errors,
 * rate limiting), /health, /metrics, the OpenAPI document at /api/docs, the socket.io namespace
 * `/live` (fed from the internal bus) and the operator dashboard at `/`.
 */
@Module({})
export class ApiModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        infra.modules.config,
        TerminusModule,
        infra.modules.persistence,
        infra.modules.messaging,
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: infra.config.api.rateLimitPerMinute }]),
      ],
      controllers: [
        HealthController,
        MetricsController,
        MachinesController,
        TelemetryController,
        ApiKeysController,
        WorkOrdersController,
        MaintenanceController,
        AlertsController,
        AlertRulesController,
        TwinController,
        LiveEventsController,
        DeviceCredentialsController,
        TrainingJobsController,
        ModelsController,
      ],
      providers: [
        { provide: METRICS_REGISTRY, useValue: infra.metrics },
        AuthService,
        MachinesService,
        TelemetryService,
        WorkOrdersService,
        MaintenanceService,
        ...REPOSITORIES,
        AlertsService,
        AlertRulesService,
        TwinSummaries,
        TwinForecaster,
        TwinService,
        LiveGateway,
        LiveService,
        DeviceCredentialsService,
        TrainingCatalogRepository,
        TrainingJobsService,
        ModelVersionsRepository,
        ModelsService,
        { provide: APP_GUARD, useClass: HttpThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useValue: new RequestValidationPipe() },
      ],
    };
  }

  /** Application-level settings: the /api/v1 prefix, body limits, the OpenAPI document and the dashboard. */
  static configure(app: INestApplication): void {
    app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'metrics'] });
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Continuum API')
        .setDescription(
          'Machines, telemetry, twins, alerts, work orders, maintenance scheduling, training jobs and model versions.',
        )
        .setVersion('1')
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key (ck_...)' })
        .build(),
    );
    SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
    serveDashboard(app);
  }
}
