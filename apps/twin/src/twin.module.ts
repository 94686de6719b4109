import { Module, type DynamicModule } from '@nestjs/common';
import { EventBus, MqttConnection } from '@continuum/messaging';
import type { Infrastructure } from '@continuum/runtime';
import { TwinMetrics } from './metrics/twin.metrics';
import { ForecastService } from './service/forecast.service';
import { MqttTwinPublisher, TwinPublisher } from './service/twin-publisher';
import { TWIN_CONFIG, TwinService } from './service/twin.service';
import { TwinRepository } from './storage/twin.repository';
import { TwinEventsController } from './twin-events.controller';

/**
 * The twin app: per-machine Latent-ODE (ODE-RNN filter) twins advanced in batches between irregular
 * readings, published on `plants/{plantId}/machines/{machineId}/twin` and as `TwinUpdated` events,
 * with forecasts (ForecastService), checkpoints and partition leases.
 */
@Module({})
export class TwinModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: TwinModule,
      imports: [infra.modules.persistence, infra.modules.messaging],
      controllers: [TwinEventsController],
      providers: [
        { provide: TWIN_CONFIG, useValue: infra.config.twin },
        { provide: TwinMetrics, useFactory: () => new TwinMetrics(infra.metrics) },
        {
          provide: TwinPublisher,
          useFactory: (mqtt: MqttConnection, bus: EventBus) =>
            new MqttTwinPublisher(mqtt, bus, infra.config.twin.publishMaxInflight),
          inject: [MqttConnection, EventBus],
        },
        TwinRepository,
        TwinService,
        ForecastService,
      ],
      exports: [TwinService, ForecastService],
    };
  }
}
