import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InternalEvent, type TrainingProgressEvent } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import { ModelsRepository, TrainingJobsRepository } from '@continuum/persistence';
import type { Infrastructure } from '@continuum/runtime';
import { TrainingDataRepository } from './data/training-data.repository';
import {
  MODELS_REPOSITORY,
  TRAINING_CONFIG,
  TRAINING_JOBS_REPOSITORY,
  TrainingEvents,
  TrainingRunner,
} from './engine/training-runner.service';
import { TrainingJobsService } from './jobs/training-jobs.service';
import { ModelRegistryService } from './registry/model-registry.service';

/** Progress on the internal event bus (the api relays it to the dashboard). */
@Injectable()
export class BusTrainingEvents extends TrainingEvents {
  constructor(private readonly bus: EventBus) {
    super();
  }

  progress(event: TrainingProgressEvent): Promise<void> {
    return this.bus.emit(InternalEvent.TrainingProgress, event);
  }
}

/**
 * apps/training: training jobs (queued in `training_jobs`, run by {@link TrainingRunner}) and the
 * model registry (`models`). Exports the services the api's controllers call.
 */
@Module({})
export class TrainingModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: TrainingModule,
      imports: [infra.modules.persistence, infra.modules.messaging],
      providers: [
        { provide: TRAINING_CONFIG, useValue: infra.config.training },
        {
          provide: TrainingJobsRepository,
          useFactory: (ds: DataSource) => new TrainingJobsRepository(ds),
          inject: [DataSource],
        },
        { provide: ModelsRepository, useFactory: (ds: DataSource) => new ModelsRepository(ds), inject: [DataSource] },
        { provide: TRAINING_JOBS_REPOSITORY, useExisting: TrainingJobsRepository },
        { provide: MODELS_REPOSITORY, useExisting: ModelsRepository },
        {
          provide: TrainingJobsService,
          useFactory: (jobs: TrainingJobsRepository, data: TrainingDataRepository) =>
            new TrainingJobsService(jobs, data),
          inject: [TrainingJobsRepository, TrainingDataRepository],
        },
        {
          provide: ModelRegistryService,
          useFactory: (models: ModelsRepository) => new ModelRegistryService(models),
          inject: [ModelsRepository],
        },
        TrainingDataRepository,
        { provide: TrainingEvents, useClass: BusTrainingEvents },
        TrainingRunner,
      ],
      exports: [TrainingJobsService, ModelRegistryService, TrainingRunner],
    };
  }
}
