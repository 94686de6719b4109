import {
  ModelsRepository,
  ReadingsRepository,
  TrainingJobsRepository,
  testDatabaseModes,
} from '@continuum/persistence';
import { uniqueId } from '@continuum/runtime';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../testing/api-harness';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MISSING = '00000000-0000-4000-8000-000000000000';

describe.each(testDatabaseModes())('training jobs and models through the api (%s database)', (mode) => {
  let api: ApiHarness;
  let viewer: string;
  let operator: string;
  let confinedAdmin: string;
  const assetType = `motor-${uniqueId()}`;
  const plantId = `plant-${uniqueId()}`;
  const machines = [`${assetType}-a`, `${assetType}-b`];
  const range = { from: iso(T0), to: iso(T0 + 3_600_000) };

  beforeAll(async () => {
    api = await startApiHarness(mode);
    [viewer, operator, confinedAdmin] = await Promise.all([
      api.keyFor('viewer'),
      api.keyFor('operator'),
      api.keyFor('admin', [plantId]),
    ]);
    for (const id of machines)
      expect((await api.call('POST', '/api/v1/machines', ADMIN, { id, plantId, assetType })).status).toBe(201);
    // 100 readings per machine in the first hour: enough for windows of 8 (16 needed), not of 101 (202).
    await new ReadingsRepository(api.proc.infra.database.dataSource).insertMany(
      machines.flatMap((machineId) =>
        Array.from({ length: 100 }, (_, i) => ({ machineId, sensor: 'temp', time: T0 + i * 30_000, value: 40 + i })),
      ),
    );
  });
  afterAll(() => api?.close());

  const post = (token: string | null, body: unknown) => api.call('POST', '/api/v1/training-jobs', token, body);

  it('queues a valid job for the training service, with defaults filled in (admin only)', async () => {
    expect((await api.call('GET', '/api/v1/training-jobs', null)).status).toBe(401);
    expect((await post(viewer, { assetType, ...range })).status).toBe(403);
    expect((await post(operator, { assetType, ...range })).status).toBe(403);
    const confined = await post(confinedAdmin, { assetType, ...range });
    expect(confined).toMatchObject({ status: 403, body: { detail: expect.stringContaining('confined to plants') } });

    const created = await post(ADMIN, { assetType, ...range, hyperparameters: { epochs: 2, window: 8 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      assetType,
      status: 'queued',
      modelKind: 'ode-rnn',
      solver: 'dopri5',
      gradient: 'adjoint',
      rangeFrom: range.from,
      rangeTo: range.to,
      hyperparameters: { epochs: 2, window: 8, lr: 0.01, hidden: 16, odeHidden: [32] },
      fraction: 0,
      progress: {},
    });
    const id = created.body.id as string;
    expect((await api.call('GET', `/api/v1/training-jobs/${id}`, viewer)).body).toMatchObject({ id, status: 'queued' });

    // The training service's claim (FOR UPDATE SKIP LOCKED on training_jobs) takes it.
    const jobs = new TrainingJobsRepository(api.proc.infra.database.dataSource);
    const claimed = await jobs.claim(id);
    expect(claimed).toMatchObject({ id, status: 'running', assetType, hyperparameters: created.body.hyperparameters });
    await jobs.heartbeat(id, { stage: 'training', epoch: 0, epochs: 2, loss: 1.5 });
    expect((await api.call('GET', `/api/v1/training-jobs/${id}`, viewer)).body).toMatchObject({
      status: 'running',
      progress: { stage: 'training', epoch: 0, epochs: 2, loss: 1.5 },
      fraction: 0.5,
    });

    const cancelled = await api.call('POST', `/api/v1/training-jobs/${id}/cancel`, ADMIN);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', error: 'cancelled by request' } });
    // The running service sees it at its next heartbeat.
    expect(await jobs.heartbeat(id)).toBe(false);
    const again = await api.call('POST', `/api/v1/training-jobs/${id}/cancel`, ADMIN);
    expect(again).toMatchObject({ status: 409, body: { detail: expect.stringContaining('is cancelled') } });
    expect((await api.call('POST', `/api/v1/training-jobs/${id}/cancel`, viewer)).status).toBe(403);
  });

  it('lists jobs by status and asset type, paginated', async () => {
    for (let i = 0; i < 3; i++)
      expect((await post(ADMIN, { assetType, ...range, hyperparameters: { window: 8, seed: i } })).status).toBe(201);
    const queued = await api.call('GET', `/api/v1/training-jobs?status=queued&assetType=${assetType}&limit=2`, viewer);
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(queued.body.items).toHaveLength(2);
    const rest = await api.call('GET', `/api/v1/training-jobs?status=queued&assetType=${assetType}&offset=2`, viewer);
    expect(rest.body.items).toHaveLength(1);
    const seeds = [...queued.body.items, ...rest.body.items].map((j: any) => j.hyperparameters.seed).sort();
    expect(seeds).toEqual([0, 1, 2]);
    const cancelled = await api.call('GET', `/api/v1/training-jobs?status=cancelled&assetType=${assetType}`, viewer);
    expect(cancelled.body.total).toBe(1);
    expect((await api.call('GET', '/api/v1/training-jobs?status=paused', viewer)).status).toBe(400);
    expect((await api.call('GET', '/api/v1/training-jobs?limit=0', viewer)).status).toBe(400);
  });

  it('refuses bad job requests as problem details: 400 (each problem), 404, 422', async () => {
    const bad = await post(ADMIN, {
      assetType,
      from: 'yesterday',
      colour: 'red',
      hyperparameters: { epochs: 0, dropout: 0.1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        'unknown field colour',
        'from: expected an ISO 8601 time or epoch milliseconds, got "yesterday"',
        'hyperparameters.epochs: expected an integer between 1 and 10000, got 0',
        expect.stringMatching(/^hyperparameters: unknown hyperparameter dropout/),
      ]),
    );
    expect((await post(ADMIN, {})).body).toMatchObject({ status: 400, detail: expect.stringMatching(/^assetType/) });
    expect((await post(ADMIN, '[1, 2]')).status).toBe(400);
    expect((await post(ADMIN, { assetType, from: range.to, to: range.from })).body).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/^empty time range/),
    });
    expect((await post(ADMIN, { assetType: 'flux-capacitor', ...range })).body).toMatchObject({
      status: 404,
      detail: "unknown asset type 'flux-capacitor': no machine has it",
    });
    expect((await post(ADMIN, { assetType, ...range, machineIds: [machines[0], 'nope'] })).body).toMatchObject({
      status: 404,
      detail: `machines not found for asset type ${assetType}: nope`,
    });
    expect((await post(ADMIN, { assetType, ...range, hyperparameters: { window: 101 } })).body).toMatchObject({
      status: 422,
      detail: expect.stringMatching(/^no data: 200 readings/),
    });
    expect((await post(ADMIN, { assetType, from: iso(T0 - 86_400_000), to: iso(T0) })).status).toBe(422);
    expect((await post(ADMIN, { assetType, ...range, solver: 'kvaerno5', gradient: 'backprop' })).body).toMatchObject({
      status: 422,
      detail: expect.stringContaining("solver 'kvaerno5' needs gradient 'adjoint'"),
    });
    expect((await api.call('GET', `/api/v1/training-jobs/${MISSING}`, viewer)).status).toBe(404);
    expect((await api.call('GET', '/api/v1/training-jobs/not-a-uuid', viewer)).status).toBe(400);
    expect((await api.call('POST', `/api/v1/training-jobs/${MISSING}/cancel`, ADMIN)).status).toBe(404);
  });

  describe('model versions', () => {
    const ids: string[] = [];
    const version = async (valLoss: number | null) => {
      const m = await new ModelsRepository(api.proc.infra.database.dataSource).insert({
        assetType,
        kind: 'ode-rnn',
        config: { obsDim: 1, hiddenDim: 2, odeHidden: [4] },
        weights: Buffer.alloc(16),
        normalisation: { features: ['temp'], offset: [0], scale: [1], timeScaleMs: 3_600_000 },
        metrics: valLoss === null ? {} : { valLoss },
        trainingData: {},
        solver: { method: 'dopri5' },
        trainingJobId: null,
      });
      ids.push(m.id);
      return m.id;
    };
    /** The twin's query for the version it runs (TwinRepository.activeModelIds). */
    const twinRuns = async (): Promise<string | undefined> => {
      const rows: { id: string }[] = await api.proc.infra.database.dataSource.query(
        `SELECT DISTINCT ON (asset_type) id FROM models WHERE status = 'active' AND asset_type = $1
         ORDER BY asset_type, activated_at DESC NULLS LAST, version DESC`,
        [assetType],
      );
      return rows[0]?.id;
    };

    beforeAll(async () => {
      await version(1.0);
      await version(2.0);
      await version(0.5);
    });

    it('lists, reads and compares versions without weights', async () => {
      const list = await api.call('GET', `/api/v1/models?assetType=${assetType}&limit=2`, viewer);
      expect(list.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
      expect(list.body.items.map((m: any) => m.version)).toEqual([3, 2]);
      expect(list.body.items[0]).not.toHaveProperty('weights');
      const got = await api.call('GET', `/api/v1/models/${ids[0]}`, viewer);
      expect(got.body).toMatchObject({ id: ids[0], version: 1, status: 'candidate', metrics: { valLoss: 1 } });
      expect(got.body).not.toHaveProperty('weights');
      const cmp = await api.call('GET', `/api/v1/models/${ids[0]}/compare/${ids[2]}`, viewer);
      expect(cmp.body).toMatchObject({
        metric: 'valLoss',
        delta: -0.5,
        better: 'b',
        metrics: { valLoss: { a: 1, b: 0.5 } },
      });
      expect((await api.call('GET', `/api/v1/models?status=broken`, viewer)).status).toBe(400);
      expect((await api.call('GET', `/api/v1/models/${MISSING}`, viewer)).status).toBe(404);
      expect((await api.call('GET', `/api/v1/models/v1`, viewer)).status).toBe(400);
    });

    it('activates (409 for a worse version unless forced) and rolls back, as the twin sees it', async () => {
      const activate = (id: string, token = ADMIN, body?: unknown) =>
        api.call('POST', `/api/v1/models/${id}/activate`, token, body);
      expect((await activate(ids[0], viewer)).status).toBe(403);
      expect((await activate(ids[0], operator)).status).toBe(403);
      expect((await activate(ids[0], confinedAdmin)).status).toBe(403);
      expect((await activate(MISSING)).status).toBe(404);
      expect((await activate(ids[0], ADMIN, { force: 'yes' })).status).toBe(400);

      const first = await activate(ids[0]);
      expect(first).toMatchObject({ status: 200, body: { model: { id: ids[0], status: 'active' }, previous: null } });
      expect(first.body.model).not.toHaveProperty('weights');
      expect(await twinRuns()).toBe(ids[0]);

      const worse = await activate(ids[1]);
      expect(worse).toMatchObject({
        status: 409,
        body: { detail: expect.stringContaining('worse than the active v1') },
      });
      expect(await twinRuns()).toBe(ids[0]);
      const forced = await activate(ids[1], ADMIN, { force: true });
      expect(forced.body).toMatchObject({ model: { version: 2, status: 'active' }, previous: { version: 1 } });
      expect(await twinRuns()).toBe(ids[1]);
      expect((await api.call('GET', `/api/v1/models/${ids[0]}`, viewer)).body.status).toBe('retired');

      expect((await api.call('POST', `/api/v1/models/${ids[0]}/rollback`, ADMIN)).status).toBe(409); // not active
      expect((await api.call('POST', `/api/v1/models/${ids[1]}/rollback`, viewer)).status).toBe(403);
      const back = await api.call('POST', `/api/v1/models/${ids[1]}/rollback`, ADMIN);
      expect(back).toMatchObject({
        status: 200,
        body: { model: { version: 1, status: 'active' }, previous: { version: 2 } },
      });
      expect(await twinRuns()).toBe(ids[0]);
      expect((await api.call('GET', `/api/v1/models?assetType=${assetType}&status=active`, viewer)).body).toMatchObject(
        {
          total: 1,
          items: [{ id: ids[0] }],
        },
      );
    });

    it('answers 404 when there is nothing to roll back to', async () => {
      const lone = `lone-${uniqueId()}`;
      const m = await new ModelsRepository(api.proc.infra.database.dataSource).insert({
        assetType: lone,
        kind: 'ode-rnn',
        config: {},
        weights: Buffer.alloc(0),
        normalisation: {},
        metrics: {},
        trainingData: {},
        solver: {},
        trainingJobId: null,
      });
      expect((await api.call('POST', `/api/v1/models/${m.id}/activate`, ADMIN)).status).toBe(200);
      expect((await api.call('POST', `/api/v1/models/${m.id}/rollback`, ADMIN)).body).toMatchObject({
        status: 404,
        detail: `asset type ${lone} has no previously active model to roll back to`,
      });
    });
  });
});
