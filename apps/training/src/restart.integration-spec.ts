import { initTensorBackend } from '@continuum/ode';
import { openTestDatabase, TrainingJobsRepository, type Database, type OpenTestDatabase } from '@continuum/persistence';
import { T0, TINY_HYPERPARAMETERS, seedSimulatedFleet, until } from './testing/fixtures';
import { trainingHarness } from './testing/harness';

jest.setTimeout(85_000);

// Longer than the tiny default so that a job can be stopped mid-way.
const HP = { ...TINY_HYPERPARAMETERS, epochs: 4, batchesPerEpoch: 3 };

describe('training service restarts', () => {
  let tdb: OpenTestDatabase;
  let db: Database;
  const range = { from: new Date(T0).toISOString(), to: new Date(T0 + 12 * 3_600_000).toISOString() };

  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu' });
    tdb = await openTestDatabase('embedded');
    db = tdb.db;
    await seedSimulatedFleet(db, 'centrifugal-pump', 3, 3, 2);
  });

  afterAll(async () => {
    await tdb?.close();
  });

  it('a crashed service leaves the job resumable: the next one resumes it from its checkpoint', async () => {
    const a = trainingHarness(db);
    const job = await a.jobs.create({ assetType: 'centrifugal-pump', ...range, hyperparameters: HP });
    await a.runner.poll();
    await until(async () => a.events.events.some((e) => e.status === 'running' && e.epoch >= 1), 60_000, 'two epochs');
    await a.runner.stop('abandoned'); // a crash: no requeue, the heartbeat just stops
    expect((await a.jobs.get(job.id)).status).toBe('running');

    const b = trainingHarness(db, { checkpointDir: a.config.checkpointDir, staleMs: 1000 });
    await new Promise((r) => setTimeout(r, 1200));
    await b.runner.poll(); // sweep: requeued; then claimed
    const done = await until(
      async () => {
        const j = await b.jobs.get(job.id);
        return j.status === 'succeeded' || j.status === 'failed' ? j : null;
      },
      60_000,
      'the resumed job',
    );
    await b.runner.stop();
    expect(done.status).toBe('succeeded');
    expect(done.progress.resumes).toBe(1);
    const model = await b.registry.get(done.modelId!);
    expect(Number(model.metrics.resumedFrom)).toBeGreaterThanOrEqual(2);
  });

  it('without a checkpoint an orphaned job is failed with the reason, never left running', async () => {
    const repo = new TrainingJobsRepository(db.dataSource);
    const h = trainingHarness(db, { staleMs: 1000 });
    const job = await h.jobs.create({ assetType: 'centrifugal-pump', ...range, hyperparameters: HP });
    await repo.claim(job.id); // a service took it and died before its first checkpoint
    await new Promise((r) => setTimeout(r, 1200));
    await h.runner.sweep();
    const failed = await h.jobs.get(job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/stopped during this job .* no checkpoint/);
    expect(h.events.events.at(-1)).toMatchObject({ status: 'failed', jobId: job.id });
  });

  it('a graceful shutdown requeues the running job at once', async () => {
    const h = trainingHarness(db);
    const job = await h.jobs.create({
      assetType: 'centrifugal-pump',
      ...range,
      hyperparameters: { ...HP, epochs: 50 },
    });
    await h.runner.poll();
    await until(async () => h.events.events.some((e) => e.status === 'running'), 60_000, 'an epoch');
    await h.runner.stop('shutdown');
    const j = await h.jobs.get(job.id);
    expect(j.status).toBe('queued');
    expect(String(j.progress.note)).toMatch(/resumes from its checkpoint/);
    await h.jobs.cancel(job.id);
    expect((await h.jobs.get(job.id)).status).toBe('cancelled');
  });
});
