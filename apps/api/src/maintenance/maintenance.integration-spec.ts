import { testDatabaseModes } from '@continuum/persistence';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../testing/api-harness';

const H = 3_600_000;
const T0 = Date.parse('2026-12-07T06:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(testDatabaseModes())('work orders and maintenance scheduling (%s database)', (mode) => {
  let api: ApiHarness;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    api = await startApiHarness(mode);
    operator = await api.keyFor('operator');
    viewer = await api.keyFor('viewer');
    for (const [id, plantId] of [
      ['m1', 'p1'],
      ['m2', 'p1'],
      ['m3', 'p2'],
    ])
      expect((await api.call('POST', '/api/v1/machines', ADMIN, { id, plantId, assetType: 'pump' })).status).toBe(201);
  });
  afterAll(() => api?.close());

  it('creates, lists, updates and deletes work orders with role checks', async () => {
    const created = await api.call('POST', '/api/v1/work-orders', operator, {
      machineId: 'm1',
      title: 'Replace seal',
      estimatedMinutes: 120,
      priority: 'high',
    });
    expect(created).toMatchObject({
      status: 201,
      body: { machineId: 'm1', status: 'open', priority: 'high', estimatedMinutes: 120 },
    });
    expect((await api.call('POST', '/api/v1/work-orders', viewer, { machineId: 'm1', title: 'x' })).status).toBe(403);
    expect((await api.call('POST', '/api/v1/work-orders', operator, { machineId: 'nope', title: 'x' })).status).toBe(
      404,
    );
    expect(
      (await api.call('POST', '/api/v1/work-orders', operator, { machineId: 'm1', title: 'x', priority: 'asap' }))
        .status,
    ).toBe(400);
    expect((await api.call('GET', '/api/v1/work-orders?machineId=m1', viewer)).body).toMatchObject({ total: 1 });
    const id = created.body.id;
    expect(
      (await api.call('PATCH', `/api/v1/work-orders/${id}`, operator, { description: 'leaking' })).body.description,
    ).toBe('leaking');
    expect(
      (await api.call('PATCH', `/api/v1/work-orders/${id}`, operator, { windowStart: iso(T0 + H), windowEnd: iso(T0) }))
        .status,
    ).toBe(400);
    const tmp = await api.call('POST', '/api/v1/work-orders', operator, { machineId: 'm2', title: 'tmp' });
    expect((await api.call('DELETE', `/api/v1/work-orders/${tmp.body.id}`, operator)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/work-orders/${tmp.body.id}`, viewer)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/work-orders/not-a-uuid`, viewer)).status).toBe(400);
  });

  it('proposes a schedule inside shifts and windows, and accepting it schedules the work', async () => {
    const request = {
      horizon: { start: iso(T0), end: iso(T0 + 24 * H) },
      plantIds: ['p1'],
      crews: [{ id: 'crew-a', shifts: [{ start: iso(T0), end: iso(T0 + 8 * H) }] }],
      windows: [{ plantId: 'p1', start: iso(T0 + 2 * H), end: iso(T0 + 8 * H) }],
      machines: [
        { machineId: 'm2', rulHours: { p10: 3, p50: 10, p90: 40 }, failureCost: 50_000, estimatedMinutes: 60 },
      ],
    };
    const proposal = await api.call('POST', '/api/v1/maintenance/schedule', operator, request);
    expect(proposal.status).toBe(200);
    expect(proposal.body.status).toBe('optimal');
    const assignments = proposal.body.assignments as {
      workOrderId: string | null;
      machineId: string;
      crewId: string;
      start: string;
      end: string;
    }[];
    expect(assignments.map((a) => a.machineId).sort()).toEqual(['m1', 'm2']);
    // The at-risk machine goes first, at the opening of the window; nothing overlaps.
    expect(assignments[0]).toMatchObject({ machineId: 'm2', crewId: 'crew-a', start: iso(T0 + 2 * H) });
    expect(Date.parse(assignments[1].start)).toBeGreaterThanOrEqual(Date.parse(assignments[0].end));

    const accepted = await api.call('POST', '/api/v1/maintenance/schedule/accept', operator, {
      assignments: assignments.map(({ workOrderId, machineId, crewId, start, end }) => ({
        workOrderId,
        machineId,
        crewId,
        start,
        end,
      })),
    });
    expect(accepted).toMatchObject({ status: 201 });
    expect(accepted.body).toHaveLength(2);
    const scheduled = await api.call('GET', '/api/v1/work-orders?status=scheduled', viewer);
    expect(scheduled.body.total).toBe(2);
    expect(scheduled.body.items.every((o: { crew: string }) => o.crew === 'crew-a')).toBe(true);

    // The crew is now booked: the same assignments again would double-book it.
    const again = await api.call('POST', '/api/v1/maintenance/schedule/accept', operator, {
      assignments: [
        { workOrderId: null, machineId: 'm1', crewId: 'crew-a', start: assignments[0].start, end: assignments[0].end },
      ],
    });
    expect(again.status).toBe(409);
  });

  it('answers 422 with the reason when no schedule is feasible, and 400 for a bad request', async () => {
    await api.call('POST', '/api/v1/work-orders', operator, {
      machineId: 'm3',
      title: 'Urgent',
      estimatedMinutes: 240,
      dueBy: iso(T0 + 10 * H),
    });
    const infeasible = await api.call('POST', '/api/v1/maintenance/schedule', operator, {
      horizon: { start: iso(T0), end: iso(T0 + 24 * H) },
      plantIds: ['p2'],
      crews: [{ id: 'crew-b', shifts: [{ start: iso(T0 + 12 * H), end: iso(T0 + 20 * H) }] }],
      windows: [{ plantId: 'p2', start: iso(T0), end: iso(T0 + 24 * H) }],
    });
    expect(infeasible.status).toBe(422);
    expect(infeasible.body.detail).toMatch(/no feasible schedule: work order .* fits no crew shift/);
    const bad = await api.call('POST', '/api/v1/maintenance/schedule', operator, {
      horizon: { start: 'soon' },
      crews: [],
    });
    expect(bad.status).toBe(400);
    expect((await api.call('POST', '/api/v1/maintenance/schedule', viewer, {})).status).toBe(403);
  });
});
