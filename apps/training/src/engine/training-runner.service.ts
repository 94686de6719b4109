import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { TrainingConfig } from '@continuum/config';
import type { TrainingProgressEvent } from '@continuum/contracts';
import type { ModelsRepository, TrainingJobEntity, TrainingJobsRepository } from '@continuum/persistence';
import { TrainingDataRepository } from '../data/training-data.repository';
import { modelWeights } from '../registry/model-weights';
import { runJob } from './job-runner';
import type { EpochReport } from './trainer';

export const TRAINING_CONFIG = Symbol('TRAINING_CONFIG');
export const TRAINING_JOBS_REPOSITORY = Symbol('TRAINING_JOBS_REPOSITORY');
export const MODELS_REPOSITORY = Symbol('MODELS_REPOSITORY');

/** Where progress goes besides the job row (the EventBus in the service; a bar in the CLI). */
export abstract class TrainingEvents {
  abstract progress(event: TrainingProgressEvent): Promise<void>;
}

/** Why a running job stopped without finishing. */
type Interrupt = 'cancelled' | 'shutdown' | 'abandoned';

/**
 * The training service's worker: at start and on every poll it sweeps orphaned jobs (running, no
 * heartbeat for TRAINING_STALE_MS: requeued to resume from their checkpoint, or failed with the
 * reason after TRAINING_MAX_RESUMES), then claims queued jobs up to TRAINING_CONCURRENCY and runs
 * them, writing progress and heartbeats to the job row and emitting TrainingProgress events. A
 * finished job becomes a `candidate` model version. On shutdown a running job is requeued (its
 * checkpoint is on disk) instead of being left running.
 */
@Injectable()
export class TrainingRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Training');
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, { interrupt: Interrupt | null; done: Promise<void> }>();
  private polling = false;
  private stopped = false;

  constructor(
    @Inject(TRAINING_CONFIG) private readonly config: TrainingConfig,
    @Inject(TRAINING_JOBS_REPOSITORY) private readonly jobs: TrainingJobsRepository,
    @Inject(MODELS_REPOSITORY) private readonly models: ModelsRepository,
    private readonly data: TrainingDataRepository,
    private readonly events: TrainingEvents,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.worker) return;
    this.timer = setInterval(() => void this.poll(), this.config.pollMs);
    void this.poll();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop('shutdown');
  }

  /**
   * Stops the worker. 'shutdown' requeues running jobs at once (resumable from their checkpoints);
   * 'abandoned' (tests: a crash) leaves them running for the stale sweep of the next service.
   */
  async stop(how: 'shutdown' | 'abandoned' = 'shutdown'): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const r of this.running.values()) r.interrupt = how;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Jobs running in this process. */
  get active(): string[] {
    return [...this.running.keys()];
  }

  /** One round: sweep orphans, then claim and start jobs up to the concurrency. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      await this.sweep();
      while (!this.stopped && this.running.size < this.config.concurrency) {
        const job = await this.jobs.claim();
        if (!job) break;
        this.start(job);
      }
    } catch (err) {
      this.logger.warn(`poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  /** Running jobs whose heartbeat stopped: requeued when a checkpoint exists and resumes remain, else failed. */
  async sweep(): Promise<void> {
    for (const job of await this.jobs.stale(this.config.staleMs)) {
      if (this.running.has(job.id)) continue;
      const resumes = Number(job.progress?.resumes ?? 0);
      const hasCheckpoint = fs.existsSync(path.join(this.checkpointDir(job.id), 'meta.json'));
      const since = job.heartbeatAt ? job.heartbeatAt.toISOString() : 'never';
      if (hasCheckpoint && resumes < this.config.maxResumes) {
        await this.jobs.transition(job.id, ['running'], 'queued', {
          progress: {
            ...job.progress,
            resumes: resumes + 1,
            note: `orphaned (last heartbeat ${since}); resuming from checkpoint`,
          },
        });
        this.logger.warn(`job ${job.id}: orphaned (last heartbeat ${since}), requeued to resume from its checkpoint`);
      } else {
        const reason = hasCheckpoint
          ? `the training service stopped during this job ${resumes + 1} times (last heartbeat ${since}); giving up after ${this.config.maxResumes} resumes`
          : `the training service stopped during this job (last heartbeat ${since}) and left no checkpoint to resume from`;
        if (await this.jobs.transition(job.id, ['running'], 'failed', { error: reason }))
          await this.emit(job, 'failed', null, null, reason);
        this.logger.warn(`job ${job.id}: failed: ${reason}`);
      }
    }
  }

  private checkpointDir(id: string): string {
    return path.resolve(this.config.checkpointDir, id);
  }

  /** Starts a claimed job. */
  start(job: TrainingJobEntity): Promise<void> {
    const entry: { interrupt: Interrupt | null; done: Promise<void> } = { interrupt: null, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.execute(job, entry)
      // The last resort: a job whose failure could not even be recorded (database gone) is left
      // 'running' for the stale sweep to requeue or fail; it must not take the process down.
      .catch((err: Error) => this.logger.error(`job ${job.id}: could not record its end: ${err.message}`))
      .finally(() => this.running.delete(job.id));
    return entry.done;
  }

  private async execute(job: TrainingJobEntity, entry: { interrupt: Interrupt | null }): Promise<void> {
    const dir = this.checkpointDir(job.id);
    let lastBeat = Date.now();
    let last: EpochReport | null = null;
    const base = { resumes: job.progress?.resumes ?? 0 };
    const beat = async (progress?: Record<string, unknown>): Promise<boolean> => {
      if (entry.interrupt) return false;
      lastBeat = Date.now();
      const alive = await this.jobs.heartbeat(job.id, progress);
      if (!alive) entry.interrupt = 'cancelled';
      return alive;
    };
    this.logger.log(`job ${job.id}: ${job.modelKind} for ${job.assetType} (${job.solver}, ${job.gradient})`);
    try {
      const out = await runJob(job, this.data, {
        checkpointDir: dir,
        chunkRows: this.config.chunkRows,
        maxSeconds: this.config.maxSeconds,
        onStage: async (stage) => void (await beat({ ...job.progress, ...base, stage })),
        tick: async () => (entry.interrupt ? false : Date.now() - lastBeat < this.config.heartbeatMs ? true : beat()),
        onEpoch: async (r) => {
          last = r;
          const ok = await beat({ ...base, stage: 'training', ...r });
          if (ok) await this.emit(job, 'running', r, null, null);
          return ok;
        },
      });
      if (entry.interrupt) return await this.interrupted(job, entry.interrupt, last);
      const { trainable, stats, result } = out;
      const model = await this.models.insert({
        assetType: job.assetType,
        kind: trainable.model.kind,
        config: trainable.model.config as Record<string, unknown>,
        weights: modelWeights(trainable.model),
        normalisation: { ...stats },
        metrics: {
          ...result.best,
          bestEpoch: result.bestEpoch,
          epochs: (result.history.at(-1)?.epoch ?? result.bestEpoch) + 1,
          stopped: result.stopped,
          resumedFrom: result.resumedFrom,
          nfeForward: result.history.at(-1)?.nfeForward ?? null,
          nfeBackward: result.history.at(-1)?.nfeBackward ?? null,
        },
        trainingData: out.trainingData,
        solver: out.solver,
        trainingJobId: job.id,
      });
      trainable.model.dispose();
      const progress = { ...base, stage: 'done', ...(last ?? {}), modelVersion: model.version };
      if (await this.jobs.transition(job.id, ['running'], 'succeeded', { modelId: model.id, progress })) {
        await this.emit(job, 'succeeded', last, model.id, null);
        this.logger.log(`job ${job.id}: succeeded -> ${job.assetType} v${model.version} (${result.stopped})`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch (err) {
      if (entry.interrupt) return await this.interrupted(job, entry.interrupt, last);
      const reason = (err as Error).message.split('\n')[0];
      this.logger.warn(`job ${job.id}: failed: ${reason}`);
      if (await this.jobs.transition(job.id, ['running'], 'failed', { error: reason }))
        await this.emit(job, 'failed', last, null, reason);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async interrupted(job: TrainingJobEntity, how: Interrupt, last: EpochReport | null): Promise<void> {
    if (how === 'shutdown') {
      const note = `interrupted by a service shutdown after epoch ${last?.epoch ?? 'none'}; resumes from its checkpoint`;
      await this.jobs
        .transition(job.id, ['running'], 'queued', { progress: { ...(job.progress ?? {}), ...(last ?? {}), note } })
        .catch(() => undefined);
      this.logger.log(`job ${job.id}: ${note}`);
    } else if (how === 'cancelled') {
      fs.rmSync(this.checkpointDir(job.id), { recursive: true, force: true });
      await this.emit(job, 'cancelled', last, null, 'cancelled');
    }
    // 'abandoned': left as it is (a crash); the next service's sweep resumes or fails it.
  }

  private async emit(
    job: TrainingJobEntity,
    status: TrainingProgressEvent['status'],
    r: EpochReport | null,
    modelId: string | null,
    error: string | null,
  ): Promise<void> {
    await this.events
      .progress({
        jobId: job.id,
        assetType: job.assetType,
        status,
        epoch: r?.epoch ?? 0,
        epochs: r?.epochs ?? Number(job.hyperparameters?.epochs ?? 0),
        loss: r?.loss ?? null,
        parts: r?.parts ?? {},
        validation: r?.validation ?? {},
        nfeForward: r?.nfeForward ?? 0,
        nfeBackward: r?.nfeBackward ?? null,
        elapsedSeconds: r?.elapsedSeconds ?? 0,
        etaSeconds: r?.etaSeconds ?? null,
        modelId,
        error,
      })
      .catch((err: Error) => this.logger.warn(`progress event not sent: ${err.message}`));
  }
}
