import { Injectable } from '@nestjs/common';
import type { TrainingJobEntity, TrainingJobsRepository, TrainingJobStatus } from '@continuum/persistence';
import {
  admitJob,
  parseJobRequest,
  trainingJobRecord,
  TrainingRequestError,
  type TrainingJobRequest,
} from '@continuum/contracts';
import { TrainingDataRepository } from '../data/training-data.repository';

/**
 * Accepts, lists and cancels training jobs. A request is validated (`parseJobRequest`: 400/422),
 * then checked against the database (`admitJob`: the asset type must have machines (404), the
 * listed machines must be of it (404) and the range must hold readings (422)) before it is queued.
 */
@Injectable()
export class TrainingJobsService {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly data: TrainingDataRepository,
  ) {}

  async create(request: TrainingJobRequest, now = new Date()): Promise<TrainingJobEntity> {
    const spec = parseJobRequest(request, now);
    await admitJob(spec, this.data);
    return this.jobs.create(trainingJobRecord(spec));
  }

  list(filter: { status?: TrainingJobStatus; assetType?: string } = {}): Promise<TrainingJobEntity[]> {
    return this.jobs.list(filter);
  }

  async get(id: string): Promise<TrainingJobEntity> {
    const job = /^[0-9a-f-]{36}$/i.test(id) ? await this.jobs.findById(id) : null;
    if (!job) throw new TrainingRequestError('not-found', `training job ${id} not found`);
    return job;
  }

  /** Cancels a queued or running job (a running one stops at its next batch). */
  async cancel(id: string): Promise<TrainingJobEntity> {
    const job = await this.get(id);
    if (!(await this.jobs.transition(id, ['queued', 'running'], 'cancelled', { error: 'cancelled by request' })))
      throw new TrainingRequestError(
        'conflict',
        `training job ${id} is ${job.status}; only queued or running jobs can be cancelled`,
      );
    return this.get(id);
  }
}
