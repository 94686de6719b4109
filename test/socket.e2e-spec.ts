import { InternalEvent, type AlertMessage, type TwinMessage } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import { ReadingsRepository } from '@continuum/persistence';
import { waitFor } from '@continuum/runtime';
import { io, type Socket } from 'socket.io-client';
import type { ClientEventMap, RoomReply } from '../apps/api/src/live/live.events';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../apps/api/src/testing/api-harness';

/** socket.io `/live`: authentication, plant rooms, typed events fed from the internal bus, coalescing. */
describe('socket.io /live', () => {
  let api: ApiHarness;
  let bus: EventBus;
  const sockets: Socket[] = [];

  const connect = (token?: string): Socket => {
    const socket = io(`${api.base}/live`, {
      auth: token ? { token } : {},
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
  const join = (socket: Socket, room: { plantId?: string; machineId?: string }) =>
    socket.timeout(5000).emitWithAck('join', room) as Promise<RoomReply>;
  /** Every event of the kinds the socket receives. */
  const record = (socket: Socket) => {
    const got: { [K in keyof ClientEventMap]: ClientEventMap[K][] } = {
      reading: [],
      twin: [],
      alert: [],
      'work-order': [],
      'training-progress': [],
    };
    for (const event of Object.keys(got) as (keyof ClientEventMap)[])
      socket.on(event as string, (payload: any) => void got[event].push(payload));
    return got;
  };

  const twin = (plantId: string, machineId: string, ts: number): TwinMessage => ({
    plantId,
    machineId,
    ts,
    modelVersion: 'pump@1',
    prediction: { temp: { mean: 60, std: 1 } },
    residuals: { temp: 0.1 },
    anomalyScore: 0.2,
    nfe: 8,
    solverError: 0,
  });
  const alert = (plantId: string, machineId: string): AlertMessage => ({
    id: `alert-${machineId}`,
    plantId,
    machineId,
    ruleId: null,
    kind: 'threshold',
    severity: 'major',
    status: 'open',
    message: 'hot',
    raisedAt: Date.now(),
    updatedAt: Date.now(),
  });

  beforeAll(async () => {
    api = await startApiHarness('embedded', { API_LIVE_EVENTS_PER_SECOND: '2' }, { events: true });
    bus = api.proc.app.get(EventBus);
    for (const [id, plantId] of [
      ['ma', 'plant-a'],
      ['mb', 'plant-b'],
    ])
      expect((await api.call('POST', '/api/v1/machines', ADMIN, { id, plantId, assetType: 'pump' })).status).toBe(201);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await api?.close();
  });

  it('refuses a client without a valid API key', async () => {
    await expect(connected(connect())).rejects.toThrow(/unauthorized: an API key is required/);
    await expect(connected(connect('ck_not_a_key'))).rejects.toThrow(/unauthorized: unknown or revoked API key/);
  });

  it("sends a viewer its plant's events and not another plant's", async () => {
    const viewerA = connect(await api.keyFor('viewer', ['plant-a']));
    const adminB = connect(ADMIN);
    await Promise.all([connected(viewerA), connected(adminB)]);
    expect(await join(viewerA, { plantId: 'plant-a' })).toEqual({ ok: true, room: 'plant:plant-a' });
    expect(await join(viewerA, { plantId: 'plant-b' })).toEqual({
      ok: false,
      error: 'this API key has no access to plant plant-b',
    });
    expect(await join(viewerA, { machineId: 'mb' })).toMatchObject({ ok: false });
    expect(await join(viewerA, { machineId: 'nope' })).toEqual({ ok: false, error: 'machine nope does not exist' });
    expect(await join(adminB, { machineId: 'mb' })).toEqual({ ok: true, room: 'machine:mb' });
    const a = record(viewerA);
    const b = record(adminB);

    const t0 = Date.now();
    await bus.emit(InternalEvent.TwinUpdated, twin('plant-b', 'mb', t0));
    await bus.emit(InternalEvent.AlertChanged, alert('plant-b', 'mb'));
    await bus.emit(InternalEvent.TwinUpdated, twin('plant-a', 'ma', t0));
    await bus.emit(InternalEvent.AlertChanged, alert('plant-a', 'ma'));
    await new ReadingsRepository(api.proc.infra.database.dataSource).insertMany([
      { machineId: 'ma', sensor: 'temp', time: t0, value: 61.5 },
      { machineId: 'mb', sensor: 'temp', time: t0, value: 99 },
    ]);
    await bus.emit(InternalEvent.ReadingsStored, {
      machines: [
        { machineId: 'ma', plantId: 'plant-a', from: t0, to: t0, count: 1 },
        { machineId: 'mb', plantId: 'plant-b', from: t0, to: t0, count: 1 },
      ],
      committedAt: Date.now(),
    });

    await waitFor(() => (a.twin.length && a.alert.length && a.reading.length ? true : undefined), 10_000, 'plant-a');
    await waitFor(() => (b.twin.length && b.alert.length && b.reading.length ? true : undefined), 10_000, 'plant-b');
    await new Promise((r) => setTimeout(r, 1000)); // anything misrouted would have arrived by now
    expect(a.twin.map((m) => m.machineId)).toEqual(['ma']);
    expect(a.alert.map((m) => m.machineId)).toEqual(['ma']);
    expect(a.reading).toEqual([{ plantId: 'plant-a', machineId: 'ma', sensors: { temp: { t: [t0], v: [61.5] } } }]);
    expect(b.twin.map((m) => m.machineId)).toEqual(['mb']);
    expect(b.reading[0].sensors.temp.v).toEqual([99]);

    // A work order made through the REST API reaches the machine's room too.
    const order = await api.call('POST', '/api/v1/work-orders', ADMIN, { machineId: 'mb', title: 'Check seal' });
    await waitFor(() => (b['work-order'].length ? true : undefined), 5000, 'the work order event');
    expect(b['work-order'][0]).toMatchObject({ id: order.body.id, plantId: 'plant-b', status: 'open' });
    expect(a['work-order']).toEqual([]);
  });

  it('coalesces a burst of twin updates per machine (the latest wins)', async () => {
    const client = connect(ADMIN);
    await connected(client);
    await join(client, { machineId: 'ma' });
    const got = record(client);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => bus.emit(InternalEvent.TwinUpdated, twin('plant-a', 'ma', t0 + i))),
    );
    await waitFor(() => got.twin.find((m) => m.ts === t0 + 39), 10_000, 'the latest twin update');
    await new Promise((r) => setTimeout(r, 600));
    // 2 events a second per machine: 40 updates emitted within about a second arrive as a handful.
    expect(got.twin.length).toBeLessThanOrEqual(6);
    expect(got.twin.at(-1)!.ts).toBe(t0 + 39);
  });
});
