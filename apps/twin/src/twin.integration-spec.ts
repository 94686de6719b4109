import { initTensorBackend } from '@continuum/ode';
import {
  Database,
  openTestDatabase,
  MachinesRepository,
  ReadingsRepository,
  testDatabaseModes,
  type OpenTestDatabase,
} from '@continuum/persistence';
import { partitionOf } from './partitions/partitions';
import { randomTwinModel } from './testing/fixtures';
import { startTwin, waitFor, type TwinHarness } from './testing/twin-harness';

/**
 * The twin service against a real database (PGlite always, PostgreSQL with DATABASE_URL), without a
 * broker: readings stored and announced as ingestion does, restart from checkpoints, two instances
 * splitting partitions and taking over, bad input. The MQTT pipeline is test/twin.e2e-spec.ts.
 */
const SENSORS = ['temperature', 'vibration', 'current'];
const model = () => randomTwinModel({ sensors: SENSORS, seed: 21, assetType: 'test-asset' });
const T0 = Date.UTC(2025, 0, 1);

beforeAll(async () => {
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
});

describe.each(testDatabaseModes())('twin service (%s database)', (mode) => {
  let tdb: OpenTestDatabase;
  let db: Database;
  const machines = ['tw-a', 'tw-b', 'tw-c', 'tw-d', 'tw-e', 'tw-f'];
  let clock = T0;

  beforeAll(async () => {
    tdb = await openTestDatabase(mode);
    db = tdb.db;
    const repo = new MachinesRepository(db.dataSource);
    for (const id of machines)
      await repo.insert({
        id,
        plantId: 'plant-t',
        assetType: 'test-asset',
        sensors: SENSORS.map((name) => ({
          name,
          failureThreshold: name === 'temperature' ? { above: 80 } : undefined,
        })),
      });
  }, 60_000);
  afterAll(async () => {
    await tdb?.close();
  });

  /** Stores one reading per machine at irregular times and announces them to the twins. */
  async function feed(twins: TwinHarness[], ids = machines): Promise<void> {
    const readings = new ReadingsRepository(db.dataSource);
    const rows = ids.flatMap((id, i) => {
      const t = clock + 1000 + i * 137;
      return SENSORS.map((sensor, d) => ({ machineId: id, sensor, time: t, value: 50 + 5 * Math.sin(t / 5000 + d) }));
    });
    clock += 2000 + Math.floor(Math.random() * 1000);
    await readings.insertMany(rows);
    const event = {
      machines: ids.map((id) => {
        const t = rows.find((r) => r.machineId === id)!.time;
        return { machineId: id, plantId: 'plant-t', from: t, to: t, count: SENSORS.length };
      }),
      committedAt: Date.now(),
    };
    for (const twin of twins) {
      twin.service.enqueue(event);
      await twin.service.runBatch();
    }
  }

  it('restores every twin from its checkpoint after a restart (prediction continuity)', async () => {
    const a = await startTwin(db, { models: [model()] });
    for (let k = 0; k < 4; k++) await feed([a]);
    expect(a.publisher.updates).toHaveLength(4 * machines.length);
    const before = new Map(machines.map((id) => [id, a.service.processor.snapshot([id])[0].state]));
    await a.stop();

    const b = await startTwin(db, { models: [model()] });
    try {
      for (const id of machines) {
        const s = b.service.processor.snapshot([id])[0]?.state;
        expect(s).toBeDefined();
        expect(s.timeMs).toBe(before.get(id)!.timeMs);
        expect(s.updates).toBe(4);
        Array.from(s.h).forEach((v, j) => expect(v).toBeCloseTo(Number(before.get(id)!.h[j]), 6));
      }
      // The next reading continues the restored twin: advanced from the checkpoint time, not started afresh.
      await feed([b]);
      for (const u of b.publisher.updates) {
        expect(u.message.nfe).toBeGreaterThan(0);
        expect(u.message.latent.updates).toBe(5);
      }
    } finally {
      await b.stop();
    }
  });

  it('stores downsampled predictions and forecasts with RUL quantiles', async () => {
    const a = await startTwin(db, { models: [model()], config: { predictionsIntervalMs: 0 } });
    try {
      await feed([a]);
      const rows = await db.dataSource.query(
        `SELECT count(*)::int AS n FROM twin_predictions WHERE machine_id = 'tw-a'`,
      );
      expect(rows[0].n).toBeGreaterThan(0);
      const f = await a.service.forecast('tw-a', { horizonMs: 60_000, points: 6, samples: 16 });
      expect(f).not.toBeNull();
      expect(f!.times).toHaveLength(6);
      expect(f!.sensors.temperature.p10.every((v, i) => v <= f!.sensors.temperature.p90[i])).toBe(true);
      expect(f!.crossingProbability.temperature).toBeGreaterThanOrEqual(0);
      expect(await a.service.forecast('no-such-machine')).toBeNull();
      // Periodic summaries ride on the twin messages.
      expect(a.publisher.updates.some((u) => u.message.forecast !== undefined)).toBe(true);
      expect(await a.service.reset('tw-f')).toBe(true);
      expect(Number.isNaN(a.service.processor.timeOf('tw-f'))).toBe(true);
    } finally {
      await a.stop();
    }
  });

  it('two instances split the partitions without overlap, and one takes over when the other stops', async () => {
    // Both instances share this process (and, embedded, one PGlite): a generous TTL against event-loop stalls.
    const config = { partitions: 8, leaseTtlMs: 4000, leaseRenewMs: 250 };
    const a = await startTwin(db, { models: [model()], config: { ...config, instance: 'inst-a' } });
    const b = await startTwin(db, { models: [model()], config: { ...config, instance: 'inst-b' } });
    let bStopped = false;
    try {
      await waitFor(
        () => {
          const pa = a.service.partitions.ownedPartitions;
          const pb = b.service.partitions.ownedPartitions;
          return pa.length === 4 && pb.length === 4 ? true : undefined;
        },
        10_000,
        'an even split',
      );
      const pa = new Set(a.service.partitions.ownedPartitions);
      const owners = await db.dataSource.query(`SELECT partition, owner FROM twin_partition_leases ORDER BY partition`);
      expect(owners.map((r: { owner: string }) => r.owner)).toEqual(
        [...Array(8).keys()].map((p) => (pa.has(p) ? 'inst-a' : 'inst-b')),
      );
      expect(b.service.partitions.ownedPartitions.filter((p) => pa.has(p))).toEqual([]);
      // The gauge counts the partitions each instance holds (set when they are restored).
      for (const twin of [a, b])
        expect((await twin.metrics.getSingleMetric('twin_partitions_owned')!.get()).values[0].value).toBe(4);
      // Each reading is applied by the instance holding its machine's partition, and only by it.
      await feed([a, b]);
      const byA = new Set(a.publisher.updates.map((u) => u.machine.id));
      const byB = new Set(b.publisher.updates.map((u) => u.machine.id));
      for (const id of machines) {
        const p = partitionOf(id, 8);
        expect(byA.has(id)).toBe(pa.has(p));
        expect(byB.has(id)).toBe(!pa.has(p));
      }
      const bMachines = [...byB];
      await b.stop();
      bStopped = true;
      // A stopped instance deletes its leases: the other claims them at its next tick (renew period).
      const started = Date.now();
      await waitFor(() => (a.service.partitions.ownedPartitions.length === 8 ? true : undefined), 10_000, 'takeover');
      const takeoverMs = Date.now() - started;
      expect(takeoverMs).toBeLessThan(config.leaseTtlMs);
      expect((await a.metrics.getSingleMetric('twin_partitions_owned')!.get()).values[0].value).toBe(8);
      // B's twins were checkpointed on release and restored by A.
      for (const id of bMachines) expect(Number.isNaN(a.service.processor.timeOf(id))).toBe(false);
    } finally {
      if (!bStopped) await b.stop();
      await a.stop();
    }
  });

  it('logs and counts bad input without stopping the batch for the other machines', async () => {
    const a = await startTwin(db, { models: [model()] });
    try {
      await feed([a]);
      const t = a.service.processor.timeOf('tw-a');
      const good = machines.slice(1).map((id) => ({
        machineId: id,
        timeMs: a.service.processor.timeOf(id) + 500,
        values: { temperature: 51, vibration: 49 },
        receivedAtMs: Date.now(),
      }));
      const updates = await a.service.apply([
        { machineId: 'nobody', timeMs: t + 10, values: { temperature: 1 }, receivedAtMs: Date.now() },
        {
          machineId: 'tw-a',
          timeMs: t + 20,
          values: { temperature: NaN, bogus: 3, current: 50 },
          receivedAtMs: Date.now(),
        },
        { machineId: 'tw-a', timeMs: t - 30 * 86_400_000, values: { temperature: 50 }, receivedAtMs: Date.now() },
        { machineId: 'tw-b', timeMs: Number.NaN, values: { temperature: 50 }, receivedAtMs: Date.now() },
        ...good,
      ]);
      expect(updates.map((u) => u.machine.id).sort()).toEqual(['tw-a', ...machines.slice(1)].sort());
      const a1 = updates.find((u) => u.machine.id === 'tw-a')!;
      expect(Object.keys(a1.message.residuals)).toEqual(['current']);
      const text = await a.metrics.metrics();
      for (const reason of ['unknown-machine', 'non-finite', 'unknown-sensor', 'too-old', 'bad-time'])
        expect(text).toContain(`twin_rejected_total{reason="${reason}"} 1`);
    } finally {
      await a.stop();
    }
  });
});
