import { initTensorBackend } from '@continuum/ode';
import { openTestDatabase, type Database, type OpenTestDatabase } from '@continuum/persistence';
import { ModelRegistry } from '../../twin/src/models/model-registry';
import { TwinRepository } from '../../twin/src/storage/twin.repository';
import { T0, TINY_HYPERPARAMETERS, seedSimulatedFleet, until } from './testing/fixtures';
import { trainingHarness } from './testing/harness';

jest.setTimeout(85_000);

const TINY = TINY_HYPERPARAMETERS;

describe('apps/training on the embedded database', () => {
  let tdb: OpenTestDatabase;
  let db: Database;
  const range = { from: new Date(T0).toISOString(), to: new Date(T0 + 12 * 3_600_000).toISOString() };

  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu' });
    tdb = await openTestDatabase('embedded');
    db = tdb.db;
    await seedSimulatedFleet(db, 'electric-motor', 3, 3);
  });

  afterAll(async () => {
    await tdb?.close();
  });

  it('refuses bad job requests with a status and a message', async () => {
    const { jobs } = trainingHarness(db, { worker: false });
    const refused = async (req: Record<string, unknown>) =>
      jobs.create(req).then(
        () => ({ status: 0, message: 'accepted' }),
        (e: { status: number; message: string }) => ({ status: e.status, message: e.message }),
      );
    expect(await refused({ assetType: 'flux-capacitor', ...range })).toMatchObject({
      status: 404,
      message: /unknown asset type/,
    });
    expect(await refused({ assetType: 'electric-motor', from: range.to, to: range.from })).toMatchObject({
      status: 400,
      message: /empty time range/,
    });
    expect(await refused({ assetType: 'electric-motor', ...range, hyperparameters: { epochs: 0 } })).toMatchObject({
      status: 400,
      message: /epochs/,
    });
    expect(await refused({ assetType: 'electric-motor', ...range, hyperparameters: { lr: 'fast' } })).toMatchObject({
      status: 400,
      message: /lr/,
    });
    expect(await refused({ assetType: 'electric-motor', ...range, hyperparameters: { dropout: 0.1 } })).toMatchObject({
      status: 400,
      message: /unknown hyperparameter/,
    });
    expect(
      await refused({ assetType: 'electric-motor', from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }),
    ).toMatchObject({ status: 422, message: /no data/ });
    expect(
      await refused({ assetType: 'electric-motor', ...range, solver: 'kvaerno5', gradient: 'backprop' }),
    ).toMatchObject({
      status: 422,
      message: /solver 'kvaerno5' needs gradient 'adjoint'/,
    });
    expect(await refused({ assetType: 'electric-motor', ...range, machineIds: ['nope'] })).toMatchObject({
      status: 404,
    });
    expect((await jobs.list()).length).toBe(0);
  });

  it('runs a job with progress, registers a version, and activation makes the twin run it', async () => {
    const h = trainingHarness(db);
    const job = await h.jobs.create({ assetType: 'electric-motor', ...range, hyperparameters: TINY });
    expect(job.status).toBe('queued');
    await h.runner.poll();
    const done = await until(
      async () => {
        const j = await h.jobs.get(job.id);
        return j.status === 'succeeded' || j.status === 'failed' ? j : null;
      },
      80_000,
      'the job to finish',
    );
    await h.runner.stop();
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ epoch: 2, epochs: 3, stage: 'done' });
    expect(Number(done.progress.nfeForward)).toBeGreaterThan(0);
    expect(Number(done.progress.nfeBackward)).toBeGreaterThan(0); // adjoint by default
    const running = h.events.events.filter((e) => e.status === 'running');
    expect(running.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(running[0].validation.valLoss).toEqual(expect.any(Number));
    expect(h.events.events.at(-1)).toMatchObject({ status: 'succeeded', modelId: done.modelId });

    const [version] = await h.registry.list('electric-motor');
    expect(version).toMatchObject({ id: done.modelId, version: 1, kind: 'ode-rnn', status: 'candidate' });
    expect(version.metrics.valLoss).toEqual(expect.any(Number));
    expect(version.normalisation).toMatchObject({ features: expect.any(Array), timeScaleMs: 3_600_000 });

    const twin = new ModelRegistry('models/default', new TwinRepository(db));
    expect(twin.modelFor('electric-motor')?.version).toBe('default:electric-motor');
    await h.registry.activate(done.modelId!);
    expect(await twin.poll()).toEqual(['electric-motor']);
    expect(twin.modelFor('electric-motor')?.version).toBe('electric-motor@v1');

    // A second version with a worse validation metric is refused unless forced; rollback restores v1.
    const job2 = await h.jobs.create({
      assetType: 'electric-motor',
      ...range,
      hyperparameters: { ...TINY, epochs: 1, lr: 1e-6 },
    });
    const h2 = trainingHarness(db);
    await h2.runner.poll();
    const done2 = await until(
      async () => {
        const j = await h2.jobs.get(job2.id);
        return j.status === 'succeeded' || j.status === 'failed' ? j : null;
      },
      60_000,
      'the second job',
    );
    await h2.runner.stop();
    expect(done2.status).toBe('succeeded');
    const cmp = await h.registry.compare(done.modelId!, done2.modelId!);
    if (cmp.better === 'a') {
      await expect(h.registry.activate(done2.modelId!)).rejects.toMatchObject({ status: 409 });
    }
    await h.registry.activate(done2.modelId!, true);
    await twin.poll();
    expect(twin.modelFor('electric-motor')?.version).toBe('electric-motor@v2');
    const back = await h.registry.rollback('electric-motor');
    expect(back.model.version).toBe(1);
    await twin.poll();
    expect(twin.modelFor('electric-motor')?.version).toBe('electric-motor@v1');
    twin.dispose();
  });
});
