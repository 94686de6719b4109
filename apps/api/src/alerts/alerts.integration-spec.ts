import { InternalEvent, type TwinMessage } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import {
  AlertsRepository,
  TwinPredictionsRepository,
  TwinStatesRepository,
  testDatabaseModes,
} from '@continuum/persistence';
import { waitFor } from '@continuum/runtime';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../testing/api-harness';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe.each(testDatabaseModes())('alerts, alert rules and twin endpoints (%s database)', (mode) => {
  let api: ApiHarness;
  let viewer: string;
  let operator: string;
  let plantBViewer: string;
  let alerts: AlertsRepository;

  const raise = async (machineId: string, plantId: string, ruleId: string) =>
    (
      await alerts.raiseOrMerge({
        machineId,
        plantId,
        ruleId,
        kind: 'divergence',
        severity: 'major',
        message: `${machineId} diverges`,
        value: 5,
        details: {},
        at: new Date(),
        by: 'test',
      })
    ).alert;

  beforeAll(async () => {
    api = await startApiHarness(mode, {}, { events: true });
    alerts = new AlertsRepository(api.proc.infra.database.dataSource);
    [viewer, operator, plantBViewer] = await Promise.all([
      api.keyFor('viewer'),
      api.keyFor('operator'),
      api.keyFor('viewer', ['plant-b']),
    ]);
    for (const [id, plantId] of [
      ['m1', 'plant-a'],
      ['m2', 'plant-b'],
    ])
      expect(
        (
          await api.call('POST', '/api/v1/machines', ADMIN, {
            id,
            plantId,
            assetType: 'pump',
            sensors: [{ name: 'temp', failureThreshold: { above: 90 } }],
          })
        ).status,
      ).toBe(201);
  });
  afterAll(() => api?.close());

  describe('alerts', () => {
    it('lists and filters alerts, scoped to the key plants', async () => {
      const a = await raise('m1', 'plant-a', 'r-list');
      await raise('m2', 'plant-b', 'r-list');
      const all = await api.call('GET', '/api/v1/alerts?status=open,acknowledged', viewer);
      expect(all.status).toBe(200);
      expect(all.body.total).toBeGreaterThanOrEqual(2);
      const byMachine = await api.call('GET', '/api/v1/alerts?machineId=m1&limit=5', viewer);
      expect(byMachine.body.items.map((x: { id: string }) => x.id)).toContain(a.id);
      expect(byMachine.body.items.every((x: { machineId: string }) => x.machineId === 'm1')).toBe(true);
      const scoped = await api.call('GET', '/api/v1/alerts', plantBViewer);
      expect(scoped.body.items.every((x: { plantId: string }) => x.plantId === 'plant-b')).toBe(true);
      expect((await api.call('GET', '/api/v1/alerts?plantId=plant-a', plantBViewer)).status).toBe(403);
      expect((await api.call('GET', '/api/v1/alerts?status=burning', viewer)).status).toBe(400);
      expect((await api.call('GET', '/api/v1/alerts', null)).status).toBe(401);
    });

    it('reads an alert with its history; 404, 400 and 403 as due', async () => {
      const a = await raise('m1', 'plant-a', 'r-get');
      const got = await api.call('GET', `/api/v1/alerts/${a.id}`, viewer);
      expect(got).toMatchObject({ status: 200, body: { id: a.id, status: 'open', history: [{ to: 'open' }] } });
      expect((await api.call('GET', `/api/v1/alerts/${NO_SUCH}`, viewer)).status).toBe(404);
      expect((await api.call('GET', `/api/v1/alerts/not-a-uuid`, viewer)).status).toBe(400);
      expect((await api.call('GET', `/api/v1/alerts/${a.id}`, plantBViewer)).status).toBe(404); // like a missing one
    });

    it('acknowledges, comments and resolves (operator), with 409 for a wrong state', async () => {
      const a = await raise('m1', 'plant-a', 'r-life');
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/acknowledge`, viewer, {})).status).toBe(403);
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/acknowledge`, null, {})).status).toBe(401);
      const acked = await api.call('POST', `/api/v1/alerts/${a.id}/acknowledge`, operator, { comment: 'on it' });
      expect(acked).toMatchObject({ status: 200, body: { status: 'acknowledged' } });
      expect(acked.body.history.at(-1)).toMatchObject({ from: 'open', to: 'acknowledged', comment: 'on it' });
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/acknowledge`, operator, {})).status).toBe(409);
      const commented = await api.call('POST', `/api/v1/alerts/${a.id}/comments`, operator, { comment: 'seal' });
      expect(commented.body).toMatchObject({ status: 'acknowledged' });
      expect(commented.body.history.at(-1)).toMatchObject({ to: 'acknowledged', comment: 'seal' });
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/comments`, operator, {})).status).toBe(400);
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/resolve`, operator, { extra: 1 })).status).toBe(400);
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/resolve`, operator, {})).body.status).toBe('resolved');
      expect((await api.call('POST', `/api/v1/alerts/${a.id}/resolve`, operator, {})).status).toBe(409);
      expect((await api.call('POST', `/api/v1/alerts/${NO_SUCH}/resolve`, operator, {})).status).toBe(404);
      expect((await alerts.findById(a.id))!.status).toBe('resolved');
    });
  });

  describe('alert rules', () => {
    const rule = { name: 'temp drift', detector: 'residual-cusum', raiseAt: 5, clearAt: 2, severity: 'major' };

    it('creates, lists, reads, updates and deletes rules (admin)', async () => {
      const created = await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, assetType: 'pump' });
      expect(created).toMatchObject({ status: 201, body: { ...rule, assetType: 'pump', enabled: true } });
      const id = created.body.id;
      expect((await api.call('GET', '/api/v1/alert-rules', viewer)).body.map((r: { id: string }) => r.id)).toContain(
        id,
      );
      expect((await api.call('GET', `/api/v1/alert-rules/${id}`, viewer)).body.name).toBe('temp drift');
      const patched = await api.call('PATCH', `/api/v1/alert-rules/${id}`, ADMIN, { raiseAt: 8, enabled: false });
      expect(patched.body).toMatchObject({ raiseAt: 8, enabled: false, clearAt: 2 });
      expect((await api.call('DELETE', `/api/v1/alert-rules/${id}`, ADMIN)).status).toBe(204);
      expect((await api.call('GET', `/api/v1/alert-rules/${id}`, viewer)).status).toBe(404);
      expect((await api.call('DELETE', `/api/v1/alert-rules/${id}`, ADMIN)).status).toBe(404);
    });

    it('validates rules (400), and needs the admin role (403) and a key (401)', async () => {
      const bad = await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, clearAt: 9 });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toContain('clearAt must be below raiseAt (hysteresis)');
      expect((await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, detector: 'magic' })).status).toBe(400);
      // An explicit null params used to reach the NOT NULL column: a 500 (the security suite's fuzzing).
      const nullParams = await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, params: null });
      expect(nullParams.status).toBe(400);
      expect(nullParams.body.errors).toContain('params must be an object mapping names to numbers');
      expect(
        (await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, machineId: 'm1', assetType: 'pump' })).status,
      ).toBe(400);
      // A residual-mewma rule is checked for a reference it can use, and stored when it has one.
      const mewma = { ...rule, detector: 'residual-mewma', assetType: 'pump', raiseAt: 80, clearAt: 32 };
      const noReference = await api.call('POST', '/api/v1/alert-rules', ADMIN, mewma);
      expect(noReference.status).toBe(400);
      expect(noReference.body.errors.join()).toMatch(/residual-mewma needs a reference: params mean.<sensor>/);
      const reference = { 'mean.a': 0, 'mean.b': 0, 'cov.a.a': 1, 'cov.b.b': 1 };
      const notDefinite = await api.call('POST', '/api/v1/alert-rules', ADMIN, {
        ...mewma,
        params: { ...reference, 'cov.a.b': 2 },
      });
      expect(notDefinite.status).toBe(400);
      expect(notDefinite.body.errors.join()).toMatch(/not positive definite/);
      const stored = await api.call('POST', '/api/v1/alert-rules', ADMIN, {
        ...mewma,
        modelVersion: 'pump@v3',
        params: { ...reference, 'cov.a.b': 0.5 },
      });
      expect(stored.status).toBe(201);
      expect(stored.body.modelVersion).toBe('pump@v3');
      expect((await api.call('POST', '/api/v1/alert-rules', ADMIN, { ...rule, modelVersion: '' })).status).toBe(400);
      expect((await api.call('DELETE', `/api/v1/alert-rules/${stored.body.id}`, ADMIN)).status).toBe(204);
      expect((await api.call('PATCH', `/api/v1/alert-rules/${NO_SUCH}`, ADMIN, { raiseAt: 3 })).status).toBe(404);
      expect((await api.call('POST', '/api/v1/alert-rules', operator, rule)).status).toBe(403);
      expect((await api.call('GET', '/api/v1/alert-rules', null)).status).toBe(401);
    });
  });

  describe('twin', () => {
    it('answers 404 before a machine has a twin, and for unknown machines', async () => {
      expect((await api.call('GET', '/api/v1/machines/m1/twin', viewer)).status).toBe(404);
      expect((await api.call('GET', '/api/v1/machines/m1/twin/forecast', viewer)).status).toBe(404);
      expect((await api.call('GET', '/api/v1/machines/nope/twin', viewer)).status).toBe(404);
      expect((await api.call('GET', '/api/v1/machines/m1/twin', plantBViewer)).status).toBe(404);
      expect((await api.call('GET', '/api/v1/machines/m1/twin', null)).status).toBe(401);
      expect((await api.call('GET', '/api/v1/machines/m1', viewer)).body.twin).toBeNull();
    });

    it('serves the state, the forecast with bands and RUL, and the machine twin summary', async () => {
      const now = Date.now();
      await new TwinPredictionsRepository(api.proc.infra.database.dataSource).insertMany(
        Array.from({ length: 5 }, (_, i) => ({
          time: now - (5 - i) * 60_000,
          machineId: 'm1',
          modelVersion: 'pump@1',
          anomalyScore: 0.1 * i,
          nfe: 10,
          solverError: 0,
          sensors: { temp: { mean: 60 + i, std: 2, value: 61 + i } },
        })),
      );
      await new TwinStatesRepository(api.proc.infra.database.dataSource).saveMany([
        { machineId: 'm1', modelId: null, time: new Date(now), state: { z: [0] }, stepSize: 0.1, updates: 5 },
      ]);
      const fromDb = await api.call('GET', '/api/v1/machines/m1', viewer);
      expect(fromDb.body.twin).toMatchObject({ modelVersion: 'pump@1', anomalyScore: 0.4, rulMs: null });

      const message: TwinMessage = {
        plantId: 'plant-a',
        machineId: 'm1',
        ts: now,
        modelVersion: 'pump@1',
        prediction: { temp: { mean: 65, std: 2 } },
        residuals: { temp: 0.5 },
        anomalyScore: 0.7,
        nfe: 12,
        solverError: 0,
        forecast: {
          horizonMs: 86_400_000,
          samples: 32,
          rulMs: { p10: 3_600_000, p50: 7_200_000, p90: 20_000_000 },
          crossingProbability: { temp: 0.8 },
        },
      };
      await api.proc.app.get(EventBus).emit(InternalEvent.TwinUpdated, message);
      const summary = await waitFor(
        async () =>
          (await api.call('GET', '/api/v1/machines?plantId=plant-a', viewer)).body.items[0].twin?.rulMs ?? undefined,
        10_000,
        'the twin update to arrive',
      );
      expect(summary).toEqual({ p10: 3_600_000, p50: 7_200_000, p90: 20_000_000 });

      const state = await api.call('GET', '/api/v1/machines/m1/twin', viewer);
      expect(state).toMatchObject({
        status: 200,
        body: {
          machineId: 'm1',
          summary: { anomalyScore: 0.7, lastUpdate: now },
          prediction: { temp: { mean: 65 } },
          checkpoint: { updates: 5 },
        },
      });
      const forecast = await api.call('GET', '/api/v1/machines/m1/twin/forecast?hours=1', viewer);
      expect(forecast.status).toBe(200);
      expect(forecast.body).toMatchObject({
        fromMs: now,
        rulMs: { p50: 7_200_000 },
        crossingProbability: { temp: 0.8 },
        rulDistribution: [{ q: 0.1 }, { q: 0.5 }, { q: 0.9 }],
      });
      const band = forecast.body.bands.temp;
      expect(band.t).toHaveLength(5);
      expect(band.p10[0]).toBeLessThan(band.p50[0]);
      expect(band.p90[0]).toBeGreaterThan(band.p50[0]);
      expect(band.value[4]).toBe(65);
      expect((await api.call('GET', '/api/v1/machines/m1/twin/forecast?hours=0', viewer)).status).toBe(400);
    });

    it('resets a twin (admin only)', async () => {
      expect((await api.call('POST', '/api/v1/machines/m1/twin/reset', operator)).status).toBe(403);
      expect((await api.call('POST', '/api/v1/machines/nope/twin/reset', ADMIN)).status).toBe(404);
      const reset = await api.call('POST', '/api/v1/machines/m1/twin/reset', ADMIN);
      expect(reset).toMatchObject({ status: 200, body: { machineId: 'm1', hadState: true } });
      expect(await new TwinStatesRepository(api.proc.infra.database.dataSource).load(['m1'])).toEqual([]);
      expect((await api.call('GET', '/api/v1/machines/m1/twin/forecast', viewer)).status).toBe(404);
    });
  });
});
