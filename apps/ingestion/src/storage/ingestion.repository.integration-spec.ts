import {
  ingestionModes,
  startIngestionOnTestDatabase,
  unique,
  type IngestionHarness,
} from '../testing/ingestion-harness';
import { IngestionRepository } from './ingestion.repository';
import { ReadingColumns } from './reading-columns';

/**
 * The batch write on a real database, both modes: PGlite takes the conflict-tolerant insert
 * always; PostgreSQL first tries a binary COPY in a savepoint and falls back on a unique violation.
 */
describe.each(ingestionModes())('IngestionRepository ($name)', ({ db }) => {
  let h: IngestionHarness;
  let repo: IngestionRepository;

  beforeAll(async () => {
    h = await startIngestionOnTestDatabase(db);
    repo = h.proc.app.get(IngestionRepository);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const rowsOf = (machineIds: string[]) =>
    h.query<{ machine_id: string; sensor: string; t: string; value: number }>(
      `SELECT machine_id, sensor, (extract(epoch FROM time) * 1000)::text AS t, value FROM readings
       WHERE machine_id = ANY($1) ORDER BY machine_id, sensor, time`,
      [machineIds],
    );
  const batch = (readings: ReadingColumns, source = 'none') => ({
    readings,
    machines: [],
    deadLetters: source === 'none' ? [] : [{ source, reason: 'wrong-shape', payload: 'x' }],
    events: [],
    stale: [],
  });

  it('stores times to the millisecond and values exactly, far past and future included', async () => {
    const m1 = `m${unique()}`;
    const m2 = `m${unique()}`;
    const c = new ReadingColumns();
    const cases: [string, string, number, number][] = [
      [m1, 'a', 1_764_547_200_123, 0.1 + 0.2],
      [m2, 'a', 0, -1.5e-300],
      [m1, 'b', 946_684_799_999, 1.7976931348623157e308],
      [m1, 'a', 8.64e15, 5e-324],
      [m2, 'b', -62_135_596_800_000, 123.456], // 0001-01-01
    ];
    for (const [m, s, t, v] of cases) c.push(m, s, t, v);
    expect(await repo.write(batch(c))).toBe(cases.length);
    const rows = await rowsOf([m1, m2]);
    const expected = [...cases].sort((x, y) =>
      x[0] + x[1] < y[0] + y[1] ? -1 : x[0] + x[1] > y[0] + y[1] ? 1 : x[2] - y[2],
    );
    expect(rows.map((r) => [r.machine_id, r.sensor, Number(r.t), r.value])).toEqual(
      expected.map(([m, s, t, v]) => [m, s, t, v]),
    );
  });

  it('stores a batch that repeats stored rows and its own rows once each, with the rest of its transaction', async () => {
    const m = `m${unique()}`;
    const first = new ReadingColumns();
    for (let t = 0; t < 100; t++) first.push(m, 's', 1_700_000_000_000 + t, t);
    expect(await repo.write(batch(first))).toBe(100);

    // 50 stored rows again, 50 new ones, and one new row twice in the same batch.
    const second = new ReadingColumns();
    for (let t = 50; t < 150; t++) second.push(m, 's', 1_700_000_000_000 + t, t);
    second.push(m, 's', 1_700_000_000_000 + 149, 149);
    const source = `dup-${unique()}`;
    expect(await repo.write(batch(second, source))).toBe(50);
    const rows = await rowsOf([m]);
    expect(rows.map((r) => Number(r.t) - 1_700_000_000_000)).toEqual(Array.from({ length: 150 }, (_, t) => t));
    // The dead letter of the same batch was committed with it.
    const [{ n }] = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE source = $1`, [
      source,
    ]);
    expect(n).toBe(1);

    // Later batches (new rows, then repeats again) are stored once as well, whichever path they take.
    for (let round = 0; round < 25; round++) {
      const next = new ReadingColumns();
      next.push(m, 's', 1_700_000_001_000 + round, round);
      if (round % 5 === 0) next.push(m, 's', 1_700_000_000_000, 0);
      expect(await repo.write(batch(next))).toBe(1);
    }
    expect((await rowsOf([m])).length).toBe(175);
  });
});
