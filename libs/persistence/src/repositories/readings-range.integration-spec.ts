import {
  openTestDatabase,
  queryPlanNodes,
  rangeQuery,
  ReadingsRepository,
  testDatabaseModes,
  type OpenTestDatabase,
  type Reading,
  type ReadingsQuery,
} from '@continuum/persistence';

/**
 * `ReadingsRepository.range` (the api's raw telemetry, the dashboard's live chart) against a table
 * where the machine asked for is a small part of the rows in its time range, as in production.
 */
const T0 = Date.UTC(2025, 5, 1);
const MACHINE = 'range-target';
/** Irregular times per sensor, some shared between sensors (ties ordered by sensor). */
const SERIES: Record<string, number[]> = {
  current: Array.from({ length: 150 }, (_, i) => T0 + i * 2000),
  temperature: Array.from({ length: 100 }, (_, i) => T0 + i * 3000 + (i % 3 === 0 ? 0 : 500)),
  vibration: Array.from({ length: 120 }, (_, i) => T0 + i * 2500),
};
/** Other machines' readings in the same time range: 60 machines x 4 sensors x 1,000 times. */
const OTHERS = { machines: 60, sensors: 4, times: 1000 };

/** What `range` must return, computed here from the inserted readings. */
function expected(all: Reading[], q: ReadingsQuery, limit: number): Reading[] {
  return all
    .filter((r) => (q.sensor === undefined || r.sensor === q.sensor) && r.time >= +q.from && r.time < +q.to)
    .sort((a, b) => a.time - b.time || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0))
    .slice(0, limit);
}

describe.each(testDatabaseModes())('readings range (%s database)', (mode) => {
  let tdb: OpenTestDatabase;
  let repo: ReadingsRepository;
  const mine: Reading[] = Object.entries(SERIES).flatMap(([sensor, times]) =>
    times.map((time, i) => ({ machineId: MACHINE, sensor, time, value: i + sensor.length / 10 })),
  );

  beforeAll(async () => {
    tdb = await openTestDatabase(mode);
    repo = new ReadingsRepository(tdb.db.dataSource);
    await repo.insertMany(mine);
    // Machines whose ids sort before and after the target's, so a scan that strays shows.
    await tdb.db.dataSource.query(
      `INSERT INTO readings (machine_id, sensor, time, value)
       SELECT m || '-other', 's' || s, to_timestamp($1::float8 / 1000) + i * interval '300 ms', random()
       FROM generate_series(1, $2::int) m, generate_series(1, $3::int) s, generate_series(0, $4::int - 1) i`,
      [T0, OTHERS.machines, OTHERS.sensors, OTHERS.times],
    );
    await tdb.db.dataSource.query(`INSERT INTO readings (machine_id, sensor, time, value) VALUES ('zzz', 'a', $1, 0)`, [
      new Date(T0),
    ]);
    await tdb.db.dataSource.query('ANALYZE readings');
  }, 120_000);

  afterAll(async () => {
    await tdb?.close();
  });

  it.each([
    ['every sensor, the whole range', {}, 10_000],
    ['every sensor, limited (a limit inside a run of equal times)', {}, 7],
    ['every sensor, a window', { from: T0 + 30_000, to: T0 + 90_500 }, 10_000],
    ['one sensor', { sensor: 'vibration' }, 10_000],
    ['one sensor, limited, a window', { sensor: 'temperature', from: T0 + 10_000, to: T0 + 200_000 }, 20],
    ['a window with no readings', { from: T0 - 60_000, to: T0 - 1 }, 100],
  ] as const)('returns %s oldest first, ties by sensor', async (_name, part, limit) => {
    const q: ReadingsQuery = {
      machineId: MACHINE,
      from: new Date(T0 - 1000),
      to: new Date(T0 + 3_600_000),
      ...('sensor' in part && { sensor: part.sensor }),
      ...('from' in part && { from: new Date(part.from), to: new Date(part.to) }),
    };
    const got = await repo.range(q, limit);
    expect(got).toEqual(expected(mine, q, limit));
  });

  it('returns nothing for an unknown machine', async () => {
    expect(await repo.range({ machineId: 'nobody', from: new Date(0), to: new Date(T0 * 2) })).toEqual([]);
  });

  it("finds the machine's sensors by probing the primary key", async () => {
    expect(await repo.sensorsOf(MACHINE)).toEqual(Object.keys(SERIES).sort());
    expect(await repo.sensorsOf('nobody')).toEqual([]);
  });

  it.each([
    ['every sensor, 50 rows', Object.keys(SERIES), 50],
    ['every sensor, all rows', Object.keys(SERIES), 10_000],
    ['one sensor', ['current'], 40],
  ])('reads %s as merged range scans of the primary key, no more rows than asked', async (_name, sensors, limit) => {
    const { text, values } = rangeQuery(MACHINE, sensors, new Date(T0), new Date(T0 + 3_600_000), limit);
    // Planned with its parameters, as the application's (unnamed) statements are.
    const all = await queryPlanNodes(tdb.db.dataSource, text, values, { analyze: true });
    expect(all.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    const indexScans = all.filter((n) => n['Index Name'] !== undefined);
    expect(indexScans.length).toBeGreaterThanOrEqual(sensors.length);
    for (const scan of indexScans) {
      expect(scan['Index Name']).toMatch(/pkey$/);
      expect(scan['Index Cond']).toContain("machine_id = 'range-target'::text");
      expect(scan['Index Cond']).toMatch(/sensor = '\w+'::text/);
      expect(scan['Index Cond']).toContain('"time" >=');
    }
    // Merged in time order, not gathered and sorted: at most one row read ahead per sensor.
    const read = indexScans.reduce((n, scan) => n + scan['Actual Rows']!, 0);
    const returned = expected(
      mine,
      { machineId: MACHINE, from: new Date(T0), to: new Date(T0 + 3_600_000) },
      1e9,
    ).filter((r) => sensors.includes(r.sensor)).length;
    expect(read).toBeLessThanOrEqual(Math.min(limit, returned) + sensors.length);
  });
});
