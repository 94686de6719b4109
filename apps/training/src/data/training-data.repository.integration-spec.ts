import {
  openTestDatabase,
  queryPlanNodes,
  ReadingsRepository,
  testDatabaseModes,
  type OpenTestDatabase,
  type Reading,
} from '@continuum/persistence';
import { sensorPageQuery, TrainingDataRepository, type DataSelection } from './training-data.repository';

/**
 * The training service's streaming read: every reading of the selection exactly once, ordered by
 * (machine, time, sensor), in chunks of the asked size, each (machine, sensor) read along the
 * primary key, with other machines' readings in the same time range.
 */
const T0 = Date.UTC(2025, 2, 1);
const SENSORS = ['flow', 'pressure', 'temperature'];



/** Irregular readings: each sensor of each machine its own cadence, many times shared across sensors. */
function fleet(machines: string[]): Reading[] {
  return machines.flatMap((machineId, m) =>
    SENSORS.flatMap((sensor, s) =>
      Array.from({ length: 60 + 17 * s + 5 * m }, (_, i) => ({
        machineId,
        sensor,
        time: T0 + i * 1000 * (s + 1),
        value: m * 1000 + s * 100 + i,
      })),
    ),
  );
}

describe.each(testDatabaseModes())('training data: streaming read (%s database)', (mode) => {
  let tdb: OpenTestDatabase;
  let data: TrainingDataRepository;
  const selected = ['pump-b', 'pump-a'];
  const readings = fleet([...selected, 'pump-c']);
  const sel: DataSelection = { machineIds: selected, from: new Date(T0 + 5000), to: new Date(T0 + 150_000) };

  beforeAll(async () => {
    tdb = await openTestDatabase(mode);
    data = new TrainingDataRepository(tdb.db.dataSource);
    await new ReadingsRepository(tdb.db.dataSource).insertMany(readings);
    await tdb.db.dataSource.query(
      `INSERT INTO readings (machine_id, sensor, time, value)
       SELECT 'other-' || m, 's' || s, to_timestamp($1::float8 / 1000) + i * interval '250 ms', random()
       FROM generate_series(1, 40) m, generate_series(1, 4) s, generate_series(0, 999) i`,
      [T0],
    );
    await tdb.db.dataSource.query('ANALYZE readings');
  }, 120_000);

  afterAll(async () => {
    await tdb?.close();
  });

  it.each([1, 7, 50, 10_000])(
    'streams every reading once, by machine then time then sensor, in chunks of %i',
    async (chunkRows) => {
      const sensors = await data.sensors(sel);
      expect(sensors).toEqual(SENSORS);
      const chunks: Reading[][] = [];
      const total = await data.forEachChunk(sel, sensors, chunkRows, (rows) => void chunks.push(rows));
      const want = selected.flatMap((machineId) =>
        readings
          .filter((r) => r.machineId === machineId && r.time >= +sel.from && r.time < +sel.to)
          .sort((a, b) => a.time - b.time || SENSORS.indexOf(a.sensor) - SENSORS.indexOf(b.sensor)),
      );
      expect(total).toBe(want.length);
      expect(chunks.flat()).toEqual(want);
      // Full chunks but the last: a chunk runs across machines and across equal times.
      expect(chunks.slice(0, -1).every((c) => c.length === chunkRows)).toBe(true);
      expect(chunks.at(-1)!.length).toBe(want.length - chunkRows * (chunks.length - 1));
    },
  );

  it('reads nothing where the selection has no readings', async () => {
    const empty = { ...sel, from: new Date(T0 - 10_000), to: new Date(T0 - 1) };
    const chunks: Reading[][] = [];
    expect(await data.forEachChunk(empty, SENSORS, 10, (rows) => void chunks.push(rows))).toBe(0);
    expect(chunks).toEqual([]);
  });

  it.each([
    ['the first page', null],
    ['a later page', T0 + 40_000],
  ])('reads %s of a (machine, sensor) by a range scan of the primary key', async (_name, afterMs) => {
    const { text, values } = sensorPageQuery('pump-a', 'pressure', sel, afterMs, 5000);
    const all = await queryPlanNodes(tdb.db.dataSource, text, values);
    expect(all.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    const indexScans = all.filter((n) => n['Index Name'] !== undefined);
    expect(indexScans.length).toBeGreaterThan(0);
    for (const scan of indexScans) {
      expect(scan['Index Name']).toMatch(/pkey$/);
      expect(scan['Index Cond']).toContain("machine_id = 'pump-a'::text");
      expect(scan['Index Cond']).toContain("sensor = 'pressure'::text");
    }
  });
});
