import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { main, type Infrastructure } from '@continuum/runtime';
import { IngestionHealthController } from './health/ingestion-health.controller';
import { IngestionModule } from './ingestion.module';

/** The ingestion app alone (external mode): `npm run start:ingestion`, with /health on PORT. */
@Module({})
class IngestionProcessModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: IngestionProcessModule,
      imports: [
        infra.modules.config,
        TerminusModule,
        infra.modules.persistence,
        infra.modules.messaging,
        IngestionModule.register(infra),
      ],
      controllers: [IngestionHealthController],
    };
  }
}

main({ role: 'ingestion', rootModule: IngestionProcessModule.register, http: true, events: false, embedded: false });
