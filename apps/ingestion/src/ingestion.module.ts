import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Infrastructure } from '@continuum/runtime';
import { IngestionHealthIndicator } from './health/ingestion.health';
import { IngestionMetrics } from './metrics/ingestion.metrics';
import { INGESTION_MESSAGING, TelemetryConsumer, type IngestionMessaging } from './mqtt/telemetry.consumer';
import { INGESTION_CONFIG, IngestionService } from './pipeline/ingestion.service';
import { IngestionRepository } from './storage/ingestion.repository';

/**
 * The ingestion app: MQTT telemetry (JSON and Sparkplug B) -> validation -> batches -> the
 * database, dead letters for refused messages, `ReadingsStored` events for the twin service.
 */
@Module({})
export class IngestionModule {
  /** `messaging` overrides the consumer's MQTT settings (tests and benchmarks: e.g. `mqttVersions: [4]`). */
  static register(infra: Infrastructure, messagingOverrides: Partial<IngestionMessaging> = {}): DynamicModule {
    const messaging: IngestionMessaging = {
      options: infra.messaging,
      embeddedBroker: infra.broker !== null,
      ...messagingOverrides,
    };
    return {
      module: IngestionModule,
      imports: [TerminusModule, infra.modules.persistence, infra.modules.messaging],
      providers: [
        { provide: INGESTION_CONFIG, useValue: infra.config.ingestion },
        { provide: INGESTION_MESSAGING, useValue: messaging },
        { provide: IngestionMetrics, useFactory: () => new IngestionMetrics(infra.metrics) },
        IngestionRepository,
        IngestionService,
        TelemetryConsumer,
        IngestionHealthIndicator,
      ],
      exports: [IngestionService, IngestionHealthIndicator, TelemetryConsumer],
    };
  }
}
