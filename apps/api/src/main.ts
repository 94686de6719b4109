import { Module, type DynamicModule } from '@nestjs/common';
import { main, type Infrastructure } from '@continuum/runtime';
import { ApiModule } from './api.module';

/** The api app alone (external mode): `npm run start:api`. */
@Module({})
class ApiProcessModule {
  static register(infra: Infrastructure): DynamicModule {
    return { module: ApiProcessModule, imports: [infra.modules.config, ApiModule.register(infra)] };
  }
}

main({ role: 'api', rootModule: ApiProcessModule.register, http: true, events: true, embedded: false });
