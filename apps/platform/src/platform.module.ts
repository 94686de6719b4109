import { Module, type DynamicModule } from '@nestjs/common';
import type { Infrastructure } from '@continuum/runtime';
import { AlertingModule } from '../../alerting/src/alerting.module';
import { ApiModule } from '../../api/src/api.module';
import { IngestionModule } from '../../ingestion/src/ingestion.module';
import { SimulatorModule } from '../../simulator/src/simulator.module';
import { TrainingModule } from '../../training/src/training.module';
import { TwinModule } from '../../twin/src/twin.module';

/**
 * Every app of Continuum in one process, on one shared infrastructure (embedded defaults:
 * PGlite+TimescaleDB and the aedes broker). The same modules the standalone apps run, composed.
 */
@Module({})
export class PlatformModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        infra.modules.config,
        ApiModule.register(infra),
        IngestionModule.register(infra),
        SimulatorModule.register(infra),
        AlertingModule.register(infra),
        TwinModule.register(infra),
        TrainingModule.register(infra),
      ],
    };
  }
}
