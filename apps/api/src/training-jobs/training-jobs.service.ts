import { ForbiddenException, Injectable } from '@nestjs/common';
import { admitJob, parseJobRequest, trainingJobRecord, TrainingRequestError } from '@continuum/contracts';
import { TrainingJobsRepository, type TrainingJobEntity } from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import type { Page } from '../common/pagination.dto';
import type { ListTrainingJobsQuery, TrainingJobDto } from './dto/training-job.dto';
import { TrainingCatalogRepository } from './training-catalog.repository';

/** A job as the api shows it: the row plus how far it got. */
export function toTrainingJobDto(job: TrainingJobEntity): TrainingJobDto {
  const epochs = Number(job.progress?.epochs ?? job.hyperparameters?.epochs ?? 0);
  const epoch = job.progress?.epoch;
  const fraction =
    job.status === 'succeeded'
      ? 1
      : typeof epoch === 'number' && epochs > 0
        ? Math.min(1, Math.max(0, (epoch + 1) / epochs))
        : 0;
  return { ...job, fraction };
}

/**
 * Training jobs through the api. A job is validated and admitted with the same contract as the
 * training CLI (`parseJobRequest`, `admitJob` of @continuum/contracts) and queued in
 * `training_jobs`, where any training service (`TRAINING_WORKER=true`) claims it; cancelling moves a
 * queued or running job to `cancelled`, and a running one stops at its next heartbeat.
 */
@Injectable()
export class TrainingJobsService {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly catalog: TrainingCatalogRepository,
  ) {}

  async list(q: ListTrainingJobsQuery): Promise<Page<TrainingJobDto>> {
    const { items, total } = await this.catalog.page({ status: q.status, assetType: q.assetType }, q.limit, q.offset);
    return { items: items.map(toTrainingJobDto), total, limit: q.limit, offset: q.offset };
  }

  async get(id: string): Promise<TrainingJobDto> {
    return toTrainingJobDto(await this.require(id));
  }

  private async require(id: string): Promise<TrainingJobEntity> {
    const job = await this.jobs.findById(id);
    if (!job) throw new TrainingRequestError('not-found', `training job ${id} does not exist`);
    return job;
  }

  /**
   * Validates, admits and queues a job.
   *
   * @throws ForbiddenException for a key confined to plants (a job reads the asset type's whole fleet)
   * @throws TrainingRequestError 400 invalid, 404 unknown asset type or machines, 422 no data or an
   *   implicit solver
   */
  async create(principal: Principal, body: unknown): Promise<TrainingJobDto> {
    fleetWide(principal, 'create training jobs');
    const spec = parseJobRequest(body);
    await admitJob(spec, this.catalog);
    return toTrainingJobDto(await this.jobs.create(trainingJobRecord(spec)));
  }

  /** @throws TrainingRequestError 404 unknown job, 409 a job that already finished */
  async cancel(principal: Principal, id: string): Promise<TrainingJobDto> {
    fleetWide(principal, 'cancel training jobs');
    const job = await this.require(id);
    if (!(await this.jobs.transition(id, ['queued', 'running'], 'cancelled', { error: 'cancelled by request' })))
      throw new TrainingRequestError(
        'conflict',
        `training job ${id} is ${job.status}; only queued or running jobs can be cancelled`,
      );
    return this.get(id);
  }
}

/** Training and model activation act on a whole asset type's fleet: not for keys confined to plants. */
export function fleetWide(principal: Principal, what: string): void {
  if (principal.plantIds !== null)
    throw new ForbiddenException(`a key confined to plants (${principal.plantIds.join(', ')}) may not ${what}`);
}
