import type { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { TrainingJobEntity, type TrainingJobStatus } from '../entities';

/** The fields of a new job (validated by the caller). */
export interface NewTrainingJob {
  assetType: string;
  machineIds: string[] | null;
  rangeFrom: Date;
  rangeTo: Date;
  modelKind: string;
  hyperparameters: Record<string, unknown>;
  solver: string;
  gradient: string;
}

/** TypeORM returns `[rows, affected]` for UPDATE ... RETURNING on PostgreSQL, plain rows elsewhere. */
function returned(raw: unknown): Record<string, unknown>[] {
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number')
    return raw[0] as Record<string, unknown>[];
  return (raw as Record<string, unknown>[]) ?? [];
}

/**
 * The `training_jobs` queue: create, claim (one job per caller, `FOR UPDATE SKIP LOCKED`),
 * heartbeat with progress, finish, and find running jobs whose heartbeat stopped. Every transition
 * is conditional on the status it leaves, so two services never run one job.
 */
export class TrainingJobsRepository {
  private readonly repo: Repository<TrainingJobEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(TrainingJobEntity);
  }

  create(job: NewTrainingJob): Promise<TrainingJobEntity> {
    return this.repo.save(this.repo.create({ ...job, status: 'queued', progress: {} }));
  }

  findById(id: string): Promise<TrainingJobEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(filter: { status?: TrainingJobStatus; assetType?: string } = {}, limit = 100): Promise<TrainingJobEntity[]> {
    return this.repo.find({ where: { ...filter }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** Takes the oldest queued job (or the given one, if still queued) and marks it running; null when none. */
  async claim(id?: string): Promise<TrainingJobEntity | null> {
    const raw: unknown = await this.dataSource.query(
      `UPDATE training_jobs SET status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now()
       WHERE id = (SELECT id FROM training_jobs WHERE status = 'queued' AND ($1::uuid IS NULL OR id = $1)
                   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [id ?? null],
    );
    const rows = returned(raw);
    return rows.length ? this.findById(String(rows[0].id)) : null;
  }

  /** Writes progress and the heartbeat of a running job; false when the job is no longer running (cancelled). */
  async heartbeat(id: string, progress?: Record<string, unknown>): Promise<boolean> {
    const set: QueryDeepPartialEntity<TrainingJobEntity> = { heartbeatAt: () => 'now()' };
    if (progress) set.progress = progress as QueryDeepPartialEntity<TrainingJobEntity>['progress'];
    const r = await this.repo.update({ id, status: 'running' }, set);
    return (r.affected ?? 0) > 0;
  }

  /** Moves a job from `from` to a final or queued state; false when it was not in `from`. */
  async transition(
    id: string,
    from: TrainingJobStatus[],
    to: TrainingJobStatus,
    fields: { error?: string | null; modelId?: string | null; progress?: Record<string, unknown> } = {},
  ): Promise<boolean> {
    const raw: unknown = await this.dataSource.query(
      `UPDATE training_jobs SET status = $3,
         error = CASE WHEN $4::boolean THEN $5 ELSE error END,
         model_id = coalesce($6::uuid, model_id),
         progress = coalesce($7::jsonb, progress),
         finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE NULL END,
         heartbeat_at = CASE WHEN $3 = 'queued' THEN NULL ELSE heartbeat_at END
       WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
      [
        id,
        from,
        to,
        fields.error !== undefined,
        fields.error ?? null,
        fields.modelId ?? null,
        fields.progress ? JSON.stringify(fields.progress) : null,
      ],
    );
    return returned(raw).length > 0;
  }

  /** Running jobs whose last heartbeat is older than `staleMs` (their service stopped or hung). */
  async stale(staleMs: number): Promise<TrainingJobEntity[]> {
    return this.repo
      .createQueryBuilder('j')
      .where(`j.status = 'running'`)
      .andWhere(`(j.heartbeat_at IS NULL OR j.heartbeat_at < now() - make_interval(secs => :s))`, {
        s: staleMs / 1000,
      })
      .orderBy('j.created_at', 'ASC')
      .getMany();
  }
}
