import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { main, type Infrastructure } from '@continuum/runtime';
import { TwinModule } from './twin.module';

/** The twin app alone (external mode): `npm run start:twin`; receives ReadingsStored events. */
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
    };
  }
}

main({ role: 'twin', rootModule: TwinProcessModule.register, http: false, events: true, embedded: false });
