import { spawnSync } from 'node:child_process';
import { ReadingsRepository, testDatabaseModes } from '@continuum/persistence';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from './testing/api-harness';

const T0 = Date.parse('2026-11-30T10:00:00Z');

describe.each(testDatabaseModes())('api contract (%s database)', (mode) => {
  let api: ApiHarness;
  const call: ApiHarness['call'] = (...args) => api.call(...args);
  const keyFor = (role: 'viewer' | 'operator' | 'admin', plantIds?: string[]) => api.keyFor(role, plantIds);

  const pump = {
    id: 'pump-1',
    plantId: 'plant-a',
    assetType: 'centrifugal-pump',
    sensors: [{ name: 'temp', unit: 'degC', failureThreshold: { above: 95 } }],
  };

  beforeAll(async () => {
    api = await startApiHarness(mode);
  });
  afterAll(() => api?.close());

  it('refuses requests without a valid token with 401 problem details', async () => {
    for (const token of [null, 'ck_not_a_key']) {
      const res = await call('GET', '/api/v1/machines', token);
      expect(res.status).toBe(401);
      expect(res.type).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 401, instance: '/api/v1/machines', detail: expect.any(String) });
    }
  });

  it('registers, lists, reads, updates and deletes machines (admin)', async () => {
    expect((await call('POST', '/api/v1/machines', ADMIN, pump)).status).toBe(201);
    expect(
      (await call('POST', '/api/v1/machines', ADMIN, { ...pump, id: 'fan-9', plantId: 'plant-b', assetType: 'fan' }))
        .status,
    ).toBe(201);
    const list = await call('GET', '/api/v1/machines?plantId=plant-a', ADMIN);
    expect(list.body).toMatchObject({
      total: 1,
      limit: 100,
      offset: 0,
      items: [{ id: 'pump-1', assetType: 'centrifugal-pump' }],
    });
    const got = await call('GET', '/api/v1/machines/pump-1', ADMIN);
    expect(got.body.sensors).toEqual(pump.sensors);
    const patched = await call('PATCH', '/api/v1/machines/pump-1', ADMIN, { name: 'Pump one' });
    expect(patched).toMatchObject({ status: 200, body: { name: 'Pump one', plantId: 'plant-a' } });
    // null is not "leave it": every machine column is NOT NULL, so null is a 400 (it was a 500), and
    // nothing changes.
    for (const field of ['metadata', 'plantId', 'sensors', 'name']) {
      const res = await call('PATCH', '/api/v1/machines/pump-1', ADMIN, { [field]: null });
      expect(res).toMatchObject({
        status: 400,
        body: { detail: `${field} may not be null (leave a field out to keep its value)` },
      });
    }
    expect((await call('POST', '/api/v1/machines', ADMIN, { ...pump, id: 'nul', metadata: null })).status).toBe(400);
    expect((await call('GET', '/api/v1/machines/pump-1', ADMIN)).body).toMatchObject({
      name: 'Pump one',
      plantId: 'plant-a',
    });
    expect((await call('POST', '/api/v1/machines', ADMIN, { ...pump, id: 'tmp' })).status).toBe(201);
    expect((await call('DELETE', '/api/v1/machines/tmp', ADMIN)).status).toBe(204);
    expect((await call('GET', '/api/v1/machines/tmp', ADMIN)).status).toBe(404);
  });

  it('answers 409 for a duplicate, 404 for an unknown machine, 400 for invalid input', async () => {
    expect((await call('POST', '/api/v1/machines', ADMIN, pump)).status).toBe(409);
    expect((await call('GET', '/api/v1/machines/nope', ADMIN)).body).toMatchObject({
      status: 404,
      detail: 'machine nope does not exist',
    });
    const bad = await call('POST', '/api/v1/machines', ADMIN, {
      id: 'a/b',
      plantId: 'p',
      assetType: 't',
      sensors: [{ name: 'x', failureThreshold: { above: 'hot' } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('id must be 1-128'),
        expect.stringContaining('above must be a number'),
      ]),
    );
    expect((await call('POST', '/api/v1/machines', ADMIN, { ...pump, id: 'x2', extra: 1 })).body.errors).toContain(
      'property extra should not exist',
    );
    expect((await call('POST', '/api/v1/machines', ADMIN, '{"id": ')).status).toBe(400);
    expect((await call('GET', '/api/v1/machines?limit=5000', ADMIN)).status).toBe(400);
  });

  it('enforces roles with 403', async () => {
    const viewer = await keyFor('viewer');
    const operator = await keyFor('operator');
    expect((await call('GET', '/api/v1/machines', viewer)).status).toBe(200);
    expect((await call('POST', '/api/v1/machines', viewer, { ...pump, id: 'v' })).status).toBe(403);
    expect((await call('DELETE', '/api/v1/machines/pump-1', operator)).status).toBe(403);
    expect((await call('GET', '/api/v1/api-keys', operator)).status).toBe(403);
  });

  it('confines a key to its plants', async () => {
    const plantA = await keyFor('viewer', ['plant-a']);
    const list = await call('GET', '/api/v1/machines', plantA);
    expect(list.body.items.map((m: { id: string }) => m.id)).toEqual(['pump-1']);
    // Another plant's machine answers like a missing one: a scoped key cannot probe ids.
    expect((await call('GET', '/api/v1/machines/fan-9', plantA)).status).toBe(404);
    expect((await call('GET', '/api/v1/machines?plantId=plant-b', plantA)).status).toBe(403);
  });

  it('stops accepting a revoked key', async () => {
    const created = await call('POST', '/api/v1/api-keys', ADMIN, { name: 'temp', role: 'viewer' });
    expect((await call('GET', '/api/v1/machines', created.body.token)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/api-keys/${created.body.id}`, ADMIN)).status).toBe(204);
    expect((await call('GET', '/api/v1/machines', created.body.token)).status).toBe(401);
    const keys = await call('GET', '/api/v1/api-keys', ADMIN);
    expect(JSON.stringify(keys.body)).not.toContain('tokenHash');
  });

  it('serves raw telemetry, downsampled series and time buckets', async () => {
    const readings = new ReadingsRepository(api.proc.infra.database.dataSource);
    const rows = Array.from({ length: 600 }, (_, i) => ({
      machineId: 'pump-1',
      sensor: 'temp',
      time: T0 + i * 1000,
      value: 50 + (i % 60),
    }));
    await readings.insertMany(rows);
    const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 600_000).toISOString()}`;

    const raw = await call('GET', `/api/v1/machines/pump-1/telemetry?${range}`, ADMIN);
    expect(raw.body).toMatchObject({ machineId: 'pump-1', count: 600, truncated: false });
    expect(raw.body.series[0].v).toHaveLength(600);
    const down = await call('GET', `/api/v1/machines/pump-1/telemetry?${range}&points=50`, ADMIN);
    expect(down.body.series[0].t).toHaveLength(50);
    const capped = await call('GET', `/api/v1/machines/pump-1/telemetry?${range}&limit=100`, ADMIN);
    expect(capped.body).toMatchObject({ count: 100, truncated: true });

    const agg = await call('GET', `/api/v1/machines/pump-1/telemetry/aggregate?${range}&bucket=5m`, ADMIN);
    expect(agg.body.buckets).toHaveLength(2);
    // Each 5-minute bucket holds 300 readings cycling 50..109: mean 79.5, min 50, max 109.
    for (const b of agg.body.buckets)
      expect(b).toMatchObject({ sensor: 'temp', count: 300, min: 50, max: 109, avg: 79.5 });

    expect(
      (await call('GET', `/api/v1/machines/pump-1/telemetry?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z`, ADMIN))
        .status,
    ).toBe(400);
    expect((await call('GET', `/api/v1/machines/pump-1/telemetry/aggregate?${range}&bucket=7m`, ADMIN)).status).toBe(
      400,
    );
    expect((await call('GET', `/api/v1/machines/pump-1/telemetry?from=yesterday&to=today`, ADMIN)).status).toBe(400);
  });

  it('publishes a valid OpenAPI document covering every route', async () => {
    const doc = (await call('GET', '/api/docs/openapi.json', null)).body;
    // swagger-parser needs require(esm), which Node has and Jest's module system has not: validate
    // in a plain Node child process.
    const validation = spawnSync(
      process.execPath,
      [
        '-e',
        "require('@apidevtools/swagger-parser').validate(JSON.parse(require('fs').readFileSync(0, 'utf8'))).then(() => console.log('valid'), (e) => { console.error(e.message); process.exit(1); })",
      ],
      { input: JSON.stringify(doc), encoding: 'utf8', cwd: __dirname },
    );
    expect(validation.stderr).toBe('');
    expect(validation.stdout.trim()).toBe('valid');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const router =
      api.proc.app.getHttpAdapter().getInstance()._router ?? api.proc.app.getHttpAdapter().getInstance().router;
    const served = (router.stack as { route?: { path: string; methods: Record<string, boolean> } }[])
      .filter((l) => l.route && !l.route.path.startsWith('/api/docs') && Object.keys(l.route.methods).length === 1)
      .flatMap((l) =>
        Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:(\w+)/g, '{$1}')}`),
      );
    expect(served.length).toBeGreaterThan(8);
    for (const route of served) expect(documented).toContain(route);
  });
});

describe('api rate limit', () => {
  it('answers 429 past the configured requests per minute', async () => {
    const api = await startApiHarness('embedded', { API_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const url = `${api.base}/api/v1/machines`;
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } })).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      // Health is never rate limited (monitoring polls it).
      expect((await fetch(`${api.base}/health`)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
