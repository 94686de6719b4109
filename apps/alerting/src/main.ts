import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { main, type Infrastructure } from '@continuum/runtime';
import { AlertingModule } from './alerting.module';
import { AlertingHealthController } from './health/alerting-health.controller';

/** The alerting app alone (external mode): `npm run start:alerting`, with /health on PORT. */
@Module({})
class AlertingProcessModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: AlertingProcessModule,
      imports: [
        infra.modules.config,
        TerminusModule,
        infra.modules.persistence,
        infra.modules.messaging,
        AlertingModule.register(infra),
      ],
      controllers: [AlertingHealthController],
    };
  }
}

main({ role: 'alerting', rootModule: AlertingProcessModule.register, http: true, events: true, embedded: false });
