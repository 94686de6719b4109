import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { initTensorBackend } from '@continuum/ode';
import { main, type Infrastructure } from '@continuum/runtime';
import { TrainingModule } from './training.module';

/** The training service alone (external mode): `npm run start:training`. */
@Module({})
class TrainingProcessModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: TrainingProcessModule,
      imports: [
        infra.modules.config,
        TerminusModule,
        infra.modules.persistence,
        infra.modules.messaging,
        TrainingModule.register(infra),
      ],
    };
  }
}

void initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' }).then(() =>
  main({ role: 'training', rootModule: TrainingProcessModule.register, http: false, events: false, embedded: false }),
);
