import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { main, type Infrastructure } from '@continuum/runtime';
import { TwinHealthController } from './health/twin-health.controller';
import { TwinHealthIndicator } from './health/twin-health.indicator';
import { TwinModule } from './twin.module';

/** The twin app alone (external mode): `npm run start:twin`; receives ReadingsStored events, /health on PORT. */
@Module({})
class TwinProcessModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: TwinProcessModule,
      imports: [
        infra.modules.config,
        TerminusModule,
        infra.modules.persistence,
        infra.modules.messaging,
        TwinModule.register(infra),
      ],
      controllers: [TwinHealthController],
      providers: [TwinHealthIndicator],
    };
  }
}

main({ role: 'twin', rootModule: TwinProcessModule.register, http: true, events: true, embedded: false });
