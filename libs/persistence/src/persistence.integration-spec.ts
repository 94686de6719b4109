import {
  Database,
  createTestDatabase,
  EmbeddedJobScheduler,
  testDatabaseModes,
  ReadingsRepository,
  MachinesRepository,
  type TestDatabase,
  type Reading,
} from '@continuum/persistence';
import { MIGRATIONS } from '../../../migrations';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-30T10:00:00Z');

/** Deterministic readings: 3 machines x 2 sensors, one every 7 s for 20 minutes. */
function sampleReadings(t0 = T0): Reading[] {
  const out: Reading[] = [];
  for (let m = 0; m < 3; m++)
    for (const sensor of ['temp', 'vib'])
      for (let t = 0; t < 20 * MINUTE; t += 7000)
        out.push({
          machineId: `m${m}`,
          sensor,
          time: t0 + t,
          value: Math.sin(t / 1e5 + m) * 10 + (sensor === 'vib' ? 1 : 0),
        });
  return out;
}

describe.each(testDatabaseModes())('persistence (%s)', (mode) => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(mode);
    db = await Database.open(testDb.config);
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('applies every migration and knows whether TimescaleDB is there', async () => {
    const applied: { name: string }[] = await db.dataSource.query(`SELECT name FROM migrations ORDER BY id`);
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((M) => new M().name));
    if (mode === 'embedded') expect(db.capabilities.timescaledb).toMatch(/^2\./);
  });

  it('makes readings a compressed hypertable under TimescaleDB', async () => {
    if (!db.capabilities.timescaledb) {
      const [view] = await db.dataSource.query(`SELECT viewname FROM pg_views WHERE viewname = 'readings_1m'`);
      expect(view).toEqual({ viewname: 'readings_1m' });
      return;
    }
    const hypertables = await db.dataSource.query(
      `SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables`,
    );
    expect(hypertables).toContainEqual({ hypertable_name: 'readings', compression_enabled: true });
    const [cagg] = await db.dataSource.query(
      `SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates`,
    );
    expect(cagg).toEqual({ view_name: 'readings_1m', materialized_only: false });
  });

  it('stores a reading once however often it is inserted', async () => {
    const repo = new ReadingsRepository(db.dataSource);
    const reading = { machineId: 'dup', sensor: 's', time: T0, value: 1.25 };
    expect(await repo.insertMany([reading])).toBe(1);
    expect(await repo.insertMany([reading, { ...reading }])).toBe(0);
    expect(await repo.count('dup')).toBe(1);
  });

  it('answers the per-minute aggregate with exact numbers', async () => {
    const repo = new ReadingsRepository(db.dataSource);
    const readings = sampleReadings();
    expect(await repo.insertMany(readings)).toBe(readings.length);
    const buckets = await repo.perMinute({ machineId: 'm1', from: new Date(T0), to: new Date(T0 + 20 * MINUTE) });
    // Reference computed here, in double precision, from the same readings.
    const expected = new Map<string, number[]>();
    for (const r of readings.filter((r) => r.machineId === 'm1')) {
      const key = `${Math.floor(r.time / MINUTE) * MINUTE}|${r.sensor}`;
      expected.set(key, [...(expected.get(key) ?? []), r.value]);
    }
    expect(buckets).toHaveLength(expected.size);
    for (const b of buckets) {
      const values = expected.get(`${b.bucket.getTime()}|${b.sensor}`)!;
      expect(b.count).toBe(values.length);
      expect(b.min).toBe(Math.min(...values));
      expect(b.max).toBe(Math.max(...values));
      expect(b.avg).toBeCloseTo(values.reduce((a, v) => a + v, 0) / values.length, 12);
    }
  });
});

describe.each(testDatabaseModes())('migrations (%s)', (mode) => {
  let testDb: TestDatabase;
  afterAll(() => testDb?.drop());

  it('revert to an empty schema and apply again', async () => {
    testDb = await createTestDatabase(mode);
    const db = await Database.open(testDb.config);
    try {
      const tables = async () =>
        (
          await db.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
        ).map((r: { tablename: string }) => r.tablename);
      expect(await tables()).toEqual(
        expect.arrayContaining([
          'alerts',
          'dead_letters',
          'machines',
          'models',
          'readings',
          'training_jobs',
          'twin_states',
          'work_orders',
        ]),
      );
      await new ReadingsRepository(db.dataSource).insertMany([{ machineId: 'a', sensor: 's', time: T0, value: 2 }]);

      // Revert every migration after the first two, then those two one at a time.
      for (let i = 2; i < MIGRATIONS.length; i++) await db.dataSource.undoLastMigration({ transaction: 'each' });
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      // After reverting the time-series migration the readings survive in a plain table.
      expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM readings`)).toEqual([{ n: 1 }]);
      expect(await db.dataSource.query(`SELECT to_regclass('readings_1m') AS v`)).toEqual([{ v: null }]);
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toEqual(['migrations']);

      const applied = await db.dataSource.runMigrations({ transaction: 'each' });
      expect(applied).toHaveLength(MIGRATIONS.length);
      expect(await tables()).toContain('readings');
    } finally {
      await db.close();
    }
  });
});

describe('embedded database', () => {
  it('keeps what was written across a restart and runs TimescaleDB jobs itself', async () => {
    // Recent data, inside the continuous aggregate's 3-hour refresh window.
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;
    const readings = sampleReadings(t0);
    const testDb = await createTestDatabase('embedded');
    try {
      let db = await Database.open(testDb.config);
      await new ReadingsRepository(db.dataSource).insertMany(readings);
      await db.close();

      db = await Database.open(testDb.config);
      try {
        const repo = new ReadingsRepository(db.dataSource);
        expect(await repo.count()).toBe(readings.length);
        // After a restart the Timescale-licensed jobs still run (they fail when the TimescaleDB
        // library is not loaded first), and a second call within the interval runs nothing.
        const scheduler = new EmbeddedJobScheduler(db);
        const ran = await scheduler.runDue();
        expect(ran).toHaveLength(2); // refresh of readings_1m and compression of readings
        expect(await scheduler.runDue()).toEqual([]);
        await db.dataSource.query(`ALTER MATERIALIZED VIEW readings_1m SET (timescaledb.materialized_only = true)`);
        const materialised = await repo.perMinute({
          machineId: 'm0',
          sensor: 'temp',
          from: new Date(t0),
          to: new Date(t0 + 20 * MINUTE),
        });
        await db.dataSource.query(`ALTER MATERIALIZED VIEW readings_1m SET (timescaledb.materialized_only = false)`);
        expect(materialised).toHaveLength(20);
        expect(materialised.reduce((a, b) => a + b.count, 0)).toBe(
          readings.filter((r) => r.machineId === 'm0' && r.sensor === 'temp').length,
        );
      } finally {
        await db.close();
      }
    } finally {
      await testDb.drop();
    }
  });
});

describe.each(testDatabaseModes())('machines seen in telemetry (%s)', (mode) => {
  it('registers new machines and adds only the sensors a machine did not list yet', async () => {
    const testDb = await createTestDatabase(mode);
    const db = await Database.open(testDb.config);
    try {
      const machines = new MachinesRepository(db.dataSource);
      await machines.upsert({
        id: 'p1',
        plantId: 'a',
        assetType: 'pump',
        sensors: [{ name: 'temp', unit: 'degC', failureThreshold: { above: 90 } }],
      });
      await machines.ensureSeen([
        { id: 'p1', plantId: 'a', assetType: 'unknown', sensors: ['temp', 'flow'] },
        { id: 'p2', plantId: 'a', assetType: 'unknown', sensors: ['vib'] },
      ]);
      await machines.ensureSeen([{ id: 'p1', plantId: 'a', assetType: 'unknown', sensors: ['flow', 'speed'] }]);
      const p1 = await machines.findById('p1');
      expect(p1).toMatchObject({ assetType: 'pump' });
      expect(p1!.sensors).toEqual([
        { name: 'temp', unit: 'degC', failureThreshold: { above: 90 } },
        { name: 'flow' },
        { name: 'speed' },
      ]);
      expect((await machines.findById('p2'))!.sensors).toEqual([{ name: 'vib' }]);
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});
