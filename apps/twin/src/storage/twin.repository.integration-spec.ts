import {
  openTestDatabase,
  queryPlanNodes,
  ReadingsRepository,
  testDatabaseModes,
  type Database,
  type OpenTestDatabase,
} from '@continuum/persistence';
import { fetchReadingsQuery, TwinRepository, type FetchSpan } from './twin.repository';

/**
 * The twin's fetch against a table where the machines asked for are a small part of the rows in
 * their time range (as in production: a few machines of a model among thousands of readings a
 * second). It must read only their (machine, sensor) ranges, whatever the planner's statistics say.
 */
const SENSORS = ['temperature', 'vibration', 'current'];
const T0 = Date.UTC(2025, 5, 1);
/** Other machines' readings in the same time range: 60 machines x 4 sensors x 1,000 times. */
const OTHERS = { machines: 60, sensors: 4, times: 1000 };

describe.each(testDatabaseModes())('twin fetch (%s database)', (mode) => {
  let tdb: OpenTestDatabase;
  let db: Database;
  const targets = ['fetch-a', 'fetch-b'];
  const times = Array.from({ length: 200 }, (_, i) => T0 + i * 1000);
  const spans: FetchSpan[] = targets.map((machineId) => ({
    machineId,
    from: times[0],
    to: times[times.length - 1],
    receivedAtMs: 0,
    sensors: SENSORS,
  }));

  beforeAll(async () => {
    tdb = await openTestDatabase(mode);
    db = tdb.db;
    // No machine rows: the fetch reads `readings` alone.
    await new ReadingsRepository(db.dataSource).insertMany([
      ...targets.flatMap((machineId) =>
        times.flatMap((time) => SENSORS.map((sensor, d) => ({ machineId, sensor, time, value: d + time / 1e12 }))),
      ),
      // A sensor the twin's model does not read: not fetched.
      { machineId: 'fetch-a', sensor: 'extra', time: times[5], value: 1 },
    ]);
    await db.dataSource.query(
      `INSERT INTO readings (machine_id, sensor, time, value)
       SELECT 'other-' || m, 's' || s, to_timestamp($1::float8 / 1000) + i * interval '200 ms', random()
       FROM generate_series(1, $2::int) m, generate_series(1, $3::int) s, generate_series(0, $4::int - 1) i`,
      [T0, OTHERS.machines, OTHERS.sensors, OTHERS.times],
    );
    await db.dataSource.query('ANALYZE readings');
  }, 120_000);

  afterAll(async () => {
    await tdb?.close();
  });

  it("returns the spans' readings of the model's sensors, oldest first per machine, capped at a time boundary", async () => {
    const repo = new TwinRepository(db);
    const all = await repo.readings(spans);
    expect(all.rest).toEqual([]);
    expect(all.readings).toHaveLength(targets.length * times.length);
    for (const r of all.readings) expect(Object.keys(r.values).sort()).toEqual([...SENSORS].sort());
    for (const id of targets)
      expect(all.readings.filter((r) => r.machineId === id).map((r) => r.timeMs)).toEqual(times);
    // 100 rows = 16 whole times of 2 machines x 3 sensors (96 rows); the 17th time goes to `rest`.
    const capped = await repo.readings(spans, 100);
    expect(capped.readings).toHaveLength(2 * 16);
    expect(capped.rest.map((s) => [s.machineId, s.from, s.sensors])).toEqual(
      targets.map((id) => [id, times[16], SENSORS]),
    );
  });

  it('reads each (machine, sensor) by a range scan of the primary key, never the time index or the table', async () => {
    const query = fetchReadingsQuery(spans, 20_000)!;
    // As the application runs it (a prepared statement): the generic plan, which does not know the spans.
    await db.dataSource.query(`SET plan_cache_mode = force_generic_plan`);
    try {
      const all = await queryPlanNodes(db.dataSource, query.text, query.values);
      // No scan of a whole table or chunk; every index used is the primary key (on TimescaleDB the
      // chunks' copies of it, under a ChunkAppend), searched by machine, sensor and time.
      expect(all.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      const indexScans = all.filter((n) => n['Index Name'] !== undefined);
      expect(indexScans.length).toBeGreaterThan(0);
      for (const scan of indexScans) {
        expect(scan['Index Name']).toMatch(/pkey$/);
        expect(scan['Index Cond']).toMatch(/machine_id = q\.machine_id/);
        expect(scan['Index Cond']).toMatch(/sensor = q\.sensor/);
      }
    } finally {
      await db.dataSource.query(`RESET plan_cache_mode`);
    }
  });
});
