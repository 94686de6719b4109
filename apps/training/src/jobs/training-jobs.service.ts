import { Injectable } from '@nestjs/common';
import type { TrainingJobEntity, TrainingJobsRepository, TrainingJobStatus } from '@continuum/persistence';
import { TrainingDataRepository } from '../data/training-data.repository';
import { parseJobRequest, type TrainingJobRequest } from './job-spec';
import { TrainingRequestError } from './training-errors';

/**
 * Accepts, lists and cancels training jobs. A request is validated (spec: 400/422), then checked
 * against the database: the asset type must have machines (404), the listed machines must be of it
 * (404) and the range must hold readings (422), before the job is queued.
 */
@Injectable()
export class TrainingJobsService {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly data: TrainingDataRepository,
  ) {}

  async create(request: TrainingJobRequest, now = new Date()): Promise<TrainingJobEntity> {
    const spec = parseJobRequest(request, now);
    if (!(await this.data.assetTypeExists(spec.assetType)))
      throw new TrainingRequestError('not-found', `unknown asset type '${spec.assetType}': no machine has it`);
    const machines = await this.data.machines(spec.assetType, spec.machineIds);
    if (spec.machineIds) {
      const known = new Set(machines.map((m) => m.id));
      const missing = spec.machineIds.filter((id) => !known.has(id));
      if (missing.length)
        throw new TrainingRequestError(
          'not-found',
          `machines not found for asset type ${spec.assetType}: ${missing.join(', ')}`,
        );
    }
    const minReadings = 2 * spec.hyperparameters.window;
    const n = await this.data.countReadings(
      { machineIds: machines.map((m) => m.id), from: spec.from, to: spec.to },
      minReadings,
    );
    if (n < minReadings)
      throw new TrainingRequestError(
        'unprocessable',
        `no data: ${n} readings of ${spec.assetType} between ${spec.from.toISOString()} and ${spec.to.toISOString()} (at least ${minReadings} needed for windows of ${spec.hyperparameters.window})`,
      );
    return this.jobs.create({
      assetType: spec.assetType,
      machineIds: spec.machineIds,
      rangeFrom: spec.from,
      rangeTo: spec.to,
      modelKind: spec.modelKind,
      hyperparameters: spec.hyperparameters as unknown as Record<string, unknown>,
      solver: spec.solver,
      gradient: spec.gradient,
    });
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
