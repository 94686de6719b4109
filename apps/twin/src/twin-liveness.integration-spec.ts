import { HealthIndicatorService } from '@nestjs/terminus';
import { ClientMqtt, type ClientProxy } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { InternalEvent, twinTopic } from '@continuum/contracts';
import { EmbeddedBroker, EventBus, eventTransportOptions, MqttConnection } from '@continuum/messaging';
import { loadConfig } from '@continuum/config';
import { initTensorBackend } from '@continuum/ode';
import {
  createTestDatabase,
  Database,
  openTestDatabase,
  MachinesRepository,
  ReadingsRepository,
  testDatabaseModes,
  type OpenTestDatabase,
  type TestDatabase,
} from '@continuum/persistence';
import { TcpProxy } from '../../../test/faults/support/tcp-proxy';
import type { TwinUpdate } from './engine/twin-processor';
import { TwinHealthIndicator } from './health/twin-health.indicator';
import { partitionOf } from './partitions/partitions';
import { MqttTwinPublisher, TwinPublisher } from './service/twin-publisher';
import { TwinRepository } from './storage/twin.repository';
import { randomTwinModel } from './testing/fixtures';
import { startTwin, waitFor, type TwinHarness } from './testing/twin-harness';

/**
 * The twin's loop stays alive (docs/twin.md, "Liveness"): a batch stage that never settles (a QoS 1
 * publish without PUBACK, a query over a connection gone silent) is abandoned after its bound, lease
 * rounds never wait on batches, /health reports a stale loop; no batch is fetched while
 * TWIN_PUBLISH_MAX_INFLIGHT updates await the broker; and a batch fetches at most
 * TWIN_BATCH_MAX_ROWS rows, leaving the rest for the next one.
 */
const SENSORS = ['temperature', 'vibration', 'current'];
const model = () => randomTwinModel({ sensors: SENSORS, seed: 5, assetType: 'live-asset' });
const T0 = Date.UTC(2025, 3, 1);

beforeAll(async () => {
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
});

/** Publishes each update on its MQTT topic, QoS 1 (as MqttTwinPublisher does, without the event bus). */
class MqttOnlyPublisher extends TwinPublisher {
  constructor(private readonly mqtt: MqttConnection) {
    super();
  }
  async publish(updates: readonly TwinUpdate[]): Promise<void> {
    await Promise.all(
      updates.map((u) => this.mqtt.publish(twinTopic(u.machine.plantId, u.machine.id), JSON.stringify(u.message))),
    );
  }
}

async function registerMachines(db: Database, ids: string[], assetType = 'live-asset'): Promise<void> {
  const repo = new MachinesRepository(db.dataSource);
  for (const id of ids)
    await repo.insert({ id, plantId: 'plant-live', assetType, sensors: SENSORS.map((name) => ({ name })) });
}

/** Stores `times` readings (every sensor) per machine and returns the announcement ingestion would send. */
async function store(db: Database, ids: string[], times: number[]) {
  const rows = ids.flatMap((id) =>
    times.flatMap((t) =>
      SENSORS.map((sensor, d) => ({ machineId: id, sensor, time: t, value: 50 + Math.sin(t / 7000 + d) })),
    ),
  );
  await new ReadingsRepository(db.dataSource).insertMany(rows);
  return {
    machines: ids.map((id) => ({
      machineId: id,
      plantId: 'plant-live',
      from: Math.min(...times),
      to: Math.max(...times),
      count: times.length * SENSORS.length,
    })),
    committedAt: Date.now(),
  };
}

const metricValue = async (twin: TwinHarness, name: string, label: string) =>
  (await twin.metrics.getSingleMetric(name)?.get())?.values.find((v) => Object.values(v.labels).includes(label))
    ?.value ?? 0;

describe('twin liveness (embedded database)', () => {
  let tdb: OpenTestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await openTestDatabase('embedded');
    db = tdb.db;
  }, 60_000);
  afterAll(async () => {
    await tdb?.close();
  });

  it('a publish whose PUBACK never comes stops neither the batches nor the lease rounds (hand-over included)', async () => {
    // The broker holds every twin message without acknowledging it (as a backed-up socket would).
    const held: ((ok: boolean) => void)[] = [];
    const broker = await EmbeddedBroker.start({
      port: 0,
      authorizePublish: (_c, _u, topic) => (topic.endsWith('/twin') ? new Promise<boolean>((r) => held.push(r)) : true),
    });
    const mqtt = await MqttConnection.open({ url: `mqtt://127.0.0.1:${broker.port}`, clientId: 'twin-liveness-a' });
    const ids = ['lv-a', 'lv-b', 'lv-c', 'lv-d', 'lv-e', 'lv-f'];
    await registerMachines(db, ids);
    const config = { partitions: 8, leaseTtlMs: 3000, leaseRenewMs: 250, stageTimeoutMs: 1000, batchWindowMs: 10_000 };
    const a = await startTwin(db, {
      models: [model()],
      publisher: new MqttOnlyPublisher(mqtt),
      config: { ...config, instance: 'live-a' },
    });
    let b: TwinHarness | undefined;
    try {
      a.service.enqueue(await store(db, ids, [T0 + 1000]));
      const batch = a.service.runBatch();
      await waitFor(() => (held.length > 0 ? true : undefined), 10_000, 'a twin message held by the broker');
      // A second instance: A must hand half of its partitions over while its batch waits on the broker.
      b = await startTwin(db, { models: [model()], config: { ...config, instance: 'live-b' } });
      const split = () =>
        a.service.partitions.ownedPartitions.length === 4 && b!.service.partitions.ownedPartitions.length === 4;
      await waitFor(() => (split() ? true : undefined), 15_000, 'an even split');
      // The batch ended (the publish abandoned after TWIN_STAGE_TIMEOUT_MS, counted as an error)...
      await batch;
      expect(await metricValue(a, 'twin_errors_total', 'publish')).toBeGreaterThanOrEqual(1);
      expect(a.publisher.updates.map((u) => u.machine.id).sort()).toEqual(ids);
      // ...and A keeps heartbeating and renewing through two more TTLs, messages still unacknowledged.
      await new Promise((r) => setTimeout(r, 2 * config.leaseTtlMs));
      expect(held.length).toBeGreaterThan(0);
      expect(split()).toBe(true);
      const [row] = await db.dataSource.query(
        `SELECT extract(epoch FROM now() - seen_at) * 1000 AS age FROM twin_instances WHERE instance = 'live-a'`,
      );
      expect(Number(row.age)).toBeLessThan(config.leaseTtlMs);
      expect(a.service.partitions.roundAgeMs()).toBeLessThan(config.leaseTtlMs);
      // And the next batch runs.
      const before = a.publisher.updates.length;
      const mine = ids.filter((id) => a.service.partitions.owns(partitionOf(id, 8)));
      a.service.enqueue(await store(db, ids, [T0 + 2000]));
      await a.service.runBatch();
      expect(a.publisher.updates.length - before).toBe(mine.length);
    } finally {
      for (const r of held.splice(0)) r(true);
      await b?.stop();
      await a.stop();
      await mqtt.client.endAsync(true);
      await broker.close();
    }
  }, 60_000);

  it('a broker that withholds PUBACKs holds at most TWIN_PUBLISH_MAX_INFLIGHT updates; batches wait, then lose nothing', async () => {
    const window = 20;
    // Held at the broker until `holding` ends: the twin topic and the TwinUpdated event (the twin's two publishes).
    let holding = true;
    const held: ((ok: boolean) => void)[] = [];
    const broker = await EmbeddedBroker.start({
      port: 0,
      authorizePublish: (_c, _u, topic) =>
        holding && (topic.endsWith('/twin') || topic === InternalEvent.TwinUpdated)
          ? new Promise<boolean>((r) => held.push(r))
          : true,
    });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    // What arrives, as a consumer sees it: twin messages and TwinUpdated events, by machine and time.
    const sub = await MqttConnection.open({ url, clientId: 'twin-window-sub' });
    const twinSeen: string[] = [];
    const eventsSeen: string[] = [];
    sub.client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic === InternalEvent.TwinUpdated) eventsSeen.push(`${body.data.machineId}@${body.data.ts}`);
      else twinSeen.push(`${body.machineId}@${body.ts}`);
    });
    await sub.subscribe([twinTopic('plant-live', '+'), InternalEvent.TwinUpdated], 1);
    // The twin's own two clients, as TwinModule builds them.
    const mqtt = await MqttConnection.open({ url, clientId: 'twin-window' });
    const busClient = new ClientMqtt(eventTransportOptions({ url, role: 'twin-test' }, 'events-out').options!);
    await busClient.connect();
    const busMqtt = (busClient as unknown as { mqttClient: MqttClient }).mqttClient;
    // The most QoS 1 publishes awaiting PUBACK in either client (mqtt.js's outgoing store), at every send.
    let mostPending = 0;
    const sample = () => {
      for (const c of [mqtt.client, busMqtt]) mostPending = Math.max(mostPending, Object.keys(c.outgoing).length);
    };
    mqtt.client.on('packetsend', sample);
    busMqtt.on('packetsend', sample);

    const ids = [...Array(30).keys()].map((k) => `win-${String(k).padStart(2, '0')}`);
    await registerMachines(db, ids);
    const times = [1, 2, 3, 4].map((k) => T0 + 200_000 + k * 1000);
    const ttl = 3000;
    const a = await startTwin(db, {
      models: [model()],
      publisher: new MqttTwinPublisher(mqtt, new EventBus(busClient as unknown as ClientProxy), window),
      config: {
        publishMaxInflight: window,
        stageTimeoutMs: 1000,
        batchWindowMs: 20,
        leaseTtlMs: ttl,
        leaseRenewMs: 250,
        instance: 'live-window',
      },
    });
    try {
      await waitFor(() => (a.service.partitions.ownedPartitions.length > 0 ? true : undefined), 10_000, 'partitions');
      // The first batch: 30 updates, of which the window lets 20 out; the other 10 wait in the publisher.
      a.service.enqueue(await store(db, ids, [times[0]]));
      await waitFor(() => (a.publisher.updates.length === ids.length ? true : undefined), 20_000, 'the first batch');
      // Readings keep arriving while the broker acknowledges nothing; the first batch's publish times out.
      for (const t of times.slice(1)) {
        a.service.enqueue(await store(db, ids, [t]));
        await new Promise((r) => setTimeout(r, 300));
      }
      await waitFor(
        async () => ((await metricValue(a, 'twin_errors_total', 'publish')) >= 1 ? true : undefined),
        10_000,
        'the first batch abandoning its publish',
      );
      await new Promise((r) => setTimeout(r, 1000));
      // No further batch was fetched: the later readings stay pending, in the database.
      expect(a.publisher.updates.length).toBe(ids.length);
      expect(a.publisher.backlog).toBe(ids.length);
      expect((await a.metrics.getSingleMetric('twin_publish_backlog')?.get())?.values[0]?.value).toBe(ids.length);
      expect(held.length).toBeGreaterThan(0);
      expect(twinSeen).toEqual([]);
      // The window filled, and no more was handed to the MQTT clients.
      expect(mostPending).toBe(window);
      // Lease rounds went on meanwhile.
      expect(a.service.partitions.roundAgeMs()).toBeLessThan(ttl);

      // The broker acknowledges again: the backlog drains and batching resumes by itself.
      holding = false;
      for (const r of held.splice(0)) r(true);
      const expected = ids.flatMap((id) => times.map((t) => `${id}@${t}`)).sort();
      await waitFor(
        () =>
          twinSeen.length >= expected.length && eventsSeen.length >= expected.length && a.publisher.backlog === 0
            ? true
            : undefined,
        30_000,
        'every reading applied and published',
      );
      // Every reading applied once and published once on each channel, none lost or repeated...
      expect(a.publisher.updates.map((u) => `${u.machine.id}@${u.message.ts}`).sort()).toEqual(expected);
      expect([...twinSeen].sort()).toEqual(expected);
      expect([...eventsSeen].sort()).toEqual(expected);
      // ...and neither client ever held more than the window unacknowledged, draining included.
      expect(mostPending).toBeLessThanOrEqual(window);
    } finally {
      holding = false;
      for (const r of held.splice(0)) r(true);
      await a.stop();
      await busClient.close();
      await mqtt.client.endAsync(true);
      await sub.client.endAsync(true);
      await broker.close();
    }
  }, 60_000);

  it('fetches at most TWIN_BATCH_MAX_ROWS rows per batch and leaves the rest, skipping no reading', async () => {
    const ids = ['cap-a', 'cap-b', 'cap-c'];
    await registerMachines(db, ids);
    const times = [...Array(50).keys()].map((k) => T0 + 10_000 + k * 1000 + (k % 7) * 13);
    // 3 machines x 50 times x 3 sensors = 450 rows; a cap of 100 rows is at most 33 readings a batch.
    const a = await startTwin(db, { models: [model()], config: { batchMaxRows: 100, batchWindowMs: 0 } });
    const batches: number[] = [];
    a.service.onUpdates((u) => batches.push(u.length));
    try {
      a.service.enqueue(await store(db, ids, times));
      await waitFor(() => (a.publisher.updates.length >= 150 ? true : undefined), 30_000, 'every reading applied');
      await a.service.runBatch();
      const seen = a.publisher.updates.map((u) => `${u.machine.id}@${u.message.ts}`);
      expect(seen).toHaveLength(150);
      expect(new Set(seen)).toEqual(new Set(ids.flatMap((id) => times.map((t) => `${id}@${t}`))));
      expect(Math.max(...batches)).toBeLessThanOrEqual(33);
      expect(batches.length).toBeGreaterThanOrEqual(5);
    } finally {
      await a.stop();
    }
  }, 60_000);

  it('a batch of thousands of readings per machine gives the event loop a turn every slice, applying each once', async () => {
    const ids = ['deep-a', 'deep-b'];
    await registerMachines(db, ids);
    // 2 machines x 1,500 times: 3,000 readings, 1,500 rounds if applied in one go, on TensorFlow.js
    // (rounds of two machines on the host take well under a millisecond: no long batch to slice).
    const times = [...Array(1500).keys()].map((k) => T0 + 500_000 + k * 1000);
    const solver = { ...loadConfig({}).twin.solver, hostMaxBatch: 0 };
    const a = await startTwin(db, { models: [model()], config: { batchWindowMs: 0, solver } });
    let last = performance.now();
    let maxGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    try {
      const event = await store(db, ids, times);
      const started = performance.now();
      last = started;
      maxGap = 0;
      a.service.enqueue(event);
      await waitFor(() => (a.publisher.updates.length >= 3000 ? true : undefined), 60_000, 'every reading applied');
      const took = performance.now() - started;
      const seen = a.publisher.updates.map((u) => `${u.machine.id}@${u.message.ts}`);
      expect(seen).toHaveLength(3000);
      expect(new Set(seen).size).toBe(3000);
      // Measured: ~47 slices of 32 rounds; the longest gap is one slice (plus the fetch's parsing),
      // a small part of the batch. In one go the loop was blocked for the whole batch.
      console.log(`batch of 3,000 readings: ${took.toFixed(0)} ms, longest event-loop gap ${maxGap.toFixed(0)} ms`);
      expect(took).toBeGreaterThan(4 * maxGap);
      expect(maxGap).toBeLessThan(1000);
    } finally {
      clearInterval(ticker);
      await a.stop();
    }
  }, 120_000);

  it('a capped fetch cut inside one time of many machines takes that whole time and continues after it', async () => {
    const ids = [...Array(40).keys()].map((k) => `one-${String(k).padStart(2, '0')}`);
    await registerMachines(db, ids);
    const t1 = T0 + 100_000;
    const t2 = t1 + 1000;
    const event = await store(db, ids, [t1, t2]);
    const repo = new TwinRepository(db);
    const spans = event.machines.map((m) => ({ ...m, receivedAtMs: 0, sensors: SENSORS }));
    // 40 machines x 3 sensors = 120 rows at t1 alone, over the cap of 100.
    const first = await repo.readings(spans, 100);
    expect(first.readings).toHaveLength(40);
    expect(first.readings.every((r) => r.timeMs === t1 && Object.keys(r.values).length === 3)).toBe(true);
    expect(first.rest.map((s) => [s.machineId, s.from, s.to])).toEqual(ids.map((id) => [id, t1 + 1, t2]));
    const second = await repo.readings(first.rest, 1000);
    expect(second.readings).toHaveLength(40);
    expect(second.readings.every((r) => r.timeMs === t2 && Object.keys(r.values).length === 3)).toBe(true);
    expect(second.rest).toEqual([]);
    // A cut between times: 25 machines have 75 rows at t1 and 75 at t2; the cap of 100 ends at t1.
    const partial = await repo.readings(spans.slice(0, 25), 100);
    expect(partial.readings.every((r) => r.timeMs === t1)).toBe(true);
    expect(partial.readings).toHaveLength(25);
    expect(partial.rest.map((s) => s.from)).toEqual(Array(25).fill(t2));
  });

  it('skips machines without a model before fetching their readings, and counts them', async () => {
    await registerMachines(db, ['nm-a', 'nm-b'], 'no-such-asset');
    const a = await startTwin(db, { models: [model()] });
    try {
      a.service.enqueue(await store(db, ['nm-a', 'nm-b'], [T0 + 5000, T0 + 6000]));
      await a.service.runBatch();
      expect(a.publisher.updates).toEqual([]);
      expect(await metricValue(a, 'twin_skipped_total', 'no-model')).toBe(2 * 2 * SENSORS.length);
      // Not fetched, so not refused reading by reading.
      expect(await metricValue(a, 'twin_rejected_total', 'no-model')).toBe(0);
    } finally {
      await a.stop();
    }
  });

  it('/health is down once no lease round has completed for a TTL', async () => {
    const a = await startTwin(db, { config: { leaseTtlMs: 600, leaseRenewMs: 100, instance: 'live-health' } });
    const indicator = new TwinHealthIndicator(new HealthIndicatorService(), a.service);
    try {
      expect(indicator.check().twin.status).toBe('up');
      await a.service.partitions.stop(); // no more rounds
      await waitFor(() => (indicator.check().twin.status === 'down' ? true : undefined), 5000, 'down');
      expect(a.service.partitions.roundAgeMs()).toBeGreaterThan(600);
    } finally {
      await a.stop();
    }
  });
});

for (const mode of testDatabaseModes().filter((m) => m === 'external'))
  describe(`twin liveness (${mode} PostgreSQL behind a proxy)`, () => {
    let tdb: TestDatabase;
    let proxy: TcpProxy;
    let db: Database;

    beforeAll(async () => {
      tdb = await createTestDatabase(mode);
      const url = new URL((tdb.config as { url: string }).url);
      proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
      url.port = String(await proxy.listen());
      url.hostname = '127.0.0.1';
      db = await Database.open({ ...tdb.config, mode: 'external', url: url.toString() });
    }, 60_000);
    afterAll(async () => {
      await proxy?.close();
      await db?.close();
      await tdb?.drop();
    });

    it('a lease query on a connection gone silent is abandoned after the TTL and the rounds carry on', async () => {
      const ttl = 1500;
      const a = await startTwin(db, {
        models: [model()],
        config: { partitions: 4, leaseTtlMs: ttl, leaseRenewMs: 250, instance: 'live-pg' },
      });
      try {
        await waitFor(() => (a.service.partitions.ownedPartitions.length === 4 ? true : undefined), 10_000, 'claim');
        // Every connection open now goes silent for ever (the pool's idle ones included); new ones work.
        proxy.blackhole();
        const silencedAt = Date.now();
        await waitFor(
          async () => ((await metricValue(a, 'twin_errors_total', 'leases')) >= 1 ? true : undefined),
          20_000,
          'a lease round abandoned',
        );
        // Rounds complete again (on new connections), the heartbeat moves on and the partitions are held.
        await waitFor(
          () => ((a.service.partitions.lastRoundAt ?? 0) > silencedAt + ttl ? true : undefined),
          30_000,
          'a completed round',
        );
        await waitFor(
          async () => {
            const [row] = await db.dataSource.query(
              `SELECT extract(epoch FROM now() - seen_at) * 1000 AS age FROM twin_instances WHERE instance = 'live-pg'`,
            );
            return Number(row.age) < ttl && a.service.partitions.ownedPartitions.length === 4 ? true : undefined;
          },
          20_000,
          'a fresh heartbeat with every partition held',
        );
      } finally {
        await a.stop();
      }
    }, 90_000);
  });
