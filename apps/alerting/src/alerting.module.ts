import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AlertRulesRepository, AlertsRepository } from '@continuum/persistence';
import type { Infrastructure } from '@continuum/runtime';
import { ALERTING_CLOCK, AlertsService, type Clock } from './alerts/alerts.service';
import { TwinUpdatesController } from './alerts/twin-updates.controller';
import { AlertingMetrics } from './metrics/alerting.metrics';
import { AlertNotifier } from './notifications/alert-notifier';
import { WebhookDispatcher, type WebhookTransport } from './notifications/webhook.dispatcher';
import { ALERTING_CONFIG, RulesService } from './rules/rules.service';

export interface AlertingModuleOptions {
  /** Time source (tests pass a fake clock). */
  clock?: Clock;
  /** Webhook HTTP transport (tests may replace it). */
  webhookTransport?: WebhookTransport;
}

/**
 * The alerting app: TwinUpdated events -> detectors and alert lifecycle (AlertsService) ->
 * alerts in the database, announced on the bus (AlertChanged), MQTT `plants/{plantId}/alerts`
 * and webhooks. AlertsService and RulesService are exported for the api.
 */
@Module({})
export class AlertingModule {
  static register(infra: Infrastructure, options: AlertingModuleOptions = {}): DynamicModule {
    const config = infra.config.alerting;
    return {
      module: AlertingModule,
      imports: [infra.modules.persistence, infra.modules.messaging],
      controllers: [TwinUpdatesController],
      providers: [
        { provide: ALERTING_CONFIG, useValue: config },
        { provide: ALERTING_CLOCK, useValue: options.clock ?? { now: () => Date.now() } },
        { provide: AlertingMetrics, useFactory: () => new AlertingMetrics(infra.metrics) },
        { provide: AlertsRepository, useFactory: (ds: DataSource) => new AlertsRepository(ds), inject: [DataSource] },
        {
          provide: AlertRulesRepository,
          useFactory: (ds: DataSource) => new AlertRulesRepository(ds),
          inject: [DataSource],
        },
        {
          provide: WebhookDispatcher,
          useFactory: (metrics: AlertingMetrics) =>
            new WebhookDispatcher(config.webhooks, metrics, options.webhookTransport),
          inject: [AlertingMetrics],
        },
        AlertNotifier,
        RulesService,
        AlertsService,
      ],
      exports: [AlertsService, RulesService, WebhookDispatcher],
    };
  }
}
