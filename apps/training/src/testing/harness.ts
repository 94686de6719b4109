import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type TrainingConfig } from '@continuum/config';
import type { TrainingProgressEvent } from '@continuum/contracts';
import { ModelsRepository, TrainingJobsRepository, type Database } from '@continuum/persistence';
import { TrainingDataRepository } from '../data/training-data.repository';
import { TrainingEvents, TrainingRunner } from '../engine/training-runner.service';
import { TrainingJobsService } from '../jobs/training-jobs.service';
import { ModelRegistryService } from '../registry/model-registry.service';

/** Collects progress events instead of sending them. */
export class CollectingEvents extends TrainingEvents {
  readonly events: TrainingProgressEvent[] = [];
  async progress(e: TrainingProgressEvent): Promise<void> {
    this.events.push(e);
  }
}

/** The training services on an open database, without Nest or a broker. */
export interface TrainingHarness {
  jobs: TrainingJobsService;
  registry: ModelRegistryService;
  runner: TrainingRunner;
  events: CollectingEvents;
  config: TrainingConfig;
}

export function trainingHarness(db: Database, config: Partial<TrainingConfig> = {}): TrainingHarness {
  const cfg: TrainingConfig = {
    ...loadConfig({}).training,
    pollMs: 200,
    heartbeatMs: 200,
    staleMs: 1500,
    checkpointDir: fs.mkdtempSync(path.join(os.tmpdir(), 'continuum-training-')),
    ...config,
  };
  const jobsRepo = new TrainingJobsRepository(db.dataSource);
  const models = new ModelsRepository(db.dataSource);
  const data = new TrainingDataRepository(db.dataSource);
  const events = new CollectingEvents();
  return {
    jobs: new TrainingJobsService(jobsRepo, data),
    registry: new ModelRegistryService(models),
    runner: new TrainingRunner(cfg, jobsRepo, models, data, events),
    events,
    config: cfg,
  };
}
