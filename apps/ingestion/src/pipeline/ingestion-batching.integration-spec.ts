import { telemetryTopic } from '@continuum/contracts';
import { testDatabaseModes } from '@continuum/persistence';
import { IngestionRepository } from '../storage/ingestion.repository';
import {
  ingestionModes,
  startIngestionOnTestDatabase,
  unique,
  waitFor,
  type IngestionHarness,
} from '../testing/ingestion-harness';

/**
 * Many small JSON messages in one batch: the pipeline folds runs of them into one entry per run
 * (IngestionService), which must register the same machines, plants and sensors as one entry per
 * message would.
 */
describe.each(ingestionModes())('ingestion batching ($name)', ({ db, mqttUrl }) => {
  let h: IngestionHarness;

  beforeAll(async () => {
    // A long batch window, so that all of a test's messages share a batch.
    h = await startIngestionOnTestDatabase(db, { mqttUrl, env: { INGESTION_BATCH_MAX_MS: '1000' } });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('registers every machine, plant and sensor of interleaved messages sharing a batch', async () => {
    const p1 = `p${unique()}`;
    const p2 = `p${unique()}`;
    const m1 = `m${unique()}`;
    const m2 = `m${unique()}`;
    const m3 = `m${unique()}`;
    let stored = 0;
    h.service.onCommitted((b) => {
      for (const id of b.columns.machineIds) if (id === m1 || id === m2 || id === m3) stored++;
    });
    const pub = await h.publisher();
    const t = Date.now() - 60_000;
    const sends: [string, string, Record<string, number>][] = [
      [p1, m1, { a: 1 }],
      [p1, m2, { x: 1 }],
      [p1, m1, { b: 2 }],
      [p1, m2, { x: 2, y: 2 }],
      [p1, m1, { a: 3, c: 3 }],
      ['', m1, {}], // not JSON telemetry: a dead letter between the runs
      [p2, m3, { z: 1 }],
      [p2, m3, { z: 2, w: 2 }],
    ];
    await Promise.all(
      sends.map(([plant, machine, values], i) =>
        plant
          ? pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t + i, values }))
          : pub.publish(telemetryTopic(p1, machine), '{"ts": oops'),
      ),
    );
    await waitFor(() => (stored >= 10 ? true : undefined), 15_000, '10 readings');
    const machines = await h.query<{ id: string; plant_id: string; sensors: { name: string }[] }>(
      `SELECT id, plant_id, sensors FROM machines WHERE id = ANY($1) ORDER BY plant_id, id`,
      [[m1, m2, m3]],
    );
    const expected = [
      [m1, p1, ['a', 'b', 'c']],
      [m2, p1, ['x', 'y']],
      [m3, p2, ['w', 'z']],
    ].sort((x, y) => ((x[1] as string) + x[0] < (y[1] as string) + y[0] ? -1 : 1));
    expect(machines.map((m) => [m.id, m.plant_id, m.sensors.map((s) => s.name).sort()])).toEqual(expected);
    // Every reading stored once, and the refused message in dead_letters.
    const [{ dead }] = await h.query<{ dead: number }>(
      `SELECT count(*)::int AS dead FROM dead_letters WHERE source = $1`,
      [telemetryTopic(p1, m1)],
    );
    expect(dead).toBe(1);
    const [{ n }] = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE machine_id = ANY($1)`, [
      [m1, m2, m3],
    ]);
    expect(n).toBe(10);

    // A later batch with a new sensor for a known machine adds it.
    await pub.publish(telemetryTopic(p1, m1), JSON.stringify({ ts: t + 100, values: { a: 4, d: 4 } }));
    await waitFor(
      async () => {
        const [m] = await h.query<{ sensors: { name: string }[] }>(`SELECT sensors FROM machines WHERE id = $1`, [m1]);
        return m.sensors.some((s) => s.name === 'd') ? true : undefined;
      },
      15_000,
      'sensor d',
    );
  });
});

/**
 * Writes behind (an outage, a slow database): once a sealed batch waits for a writer, the open batch
 * stays open past its time window and grows, so the backlog is written in a few transactions, not
 * one per 20 ms window (before, 40 messages 25 ms apart made 40 one-message batches here).
 *
 * On the embedded broker with both databases: the batching is the service's, and an instance on the
 * shared external broker also receives whatever telemetry other test files publish meanwhile (its
 * share group gets every message), which fills its queue and its batches (CI once saw 5 batches; a
 * flood of 20,000 readings/s made 32).
 */
describe.each(testDatabaseModes())(
  'ingestion batching while writes are behind (embedded broker, %s database)',
  (db) => {
    let h: IngestionHarness;

    beforeAll(async () => {
      h = await startIngestionOnTestDatabase(db, {
        env: { INGESTION_BATCH_MAX_MS: '20', INGESTION_WRITERS: '1' },
      });
    }, 120_000);
    afterAll(async () => {
      jest.restoreAllMocks();
      await h?.close();
    });

    it('folds the messages that arrive while writes are held into one batch', async () => {
      const plant = `p${unique()}`;
      const machine = `m${unique()}`;
      const batchesWithMine: number[] = [];
      h.service.onCommitted((b) => {
        const n = b.columns.machineIds.filter((id) => id === machine).length;
        if (n > 0) batchesWithMine.push(n);
      });
      // Every write waits (then runs for real) until released: the database is "slow".
      const repository = h.proc.app.get(IngestionRepository);
      const write = repository.write.bind(repository);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      jest.spyOn(repository, 'write').mockImplementation(async (batch) => {
        await held;
        return write(batch);
      });

      const pub = await h.publisher();
      const t = Date.now() - 60_000;
      for (let i = 0; i < 40; i++) {
        await pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t + i, values: { a: i } }));
        await new Promise((r) => setTimeout(r, 25));
      }
      // Every message has reached the pipeline (received, not yet stored) before the writes resume.
      await waitFor(() => (h.service.queued >= 40 ? true : undefined), 15_000, '40 readings queued');
      release();
      await waitFor(
        () => (batchesWithMine.reduce((a, b) => a + b, 0) >= 40 ? true : undefined),
        15_000,
        '40 readings stored',
      );
      // The first window's batch is being written (held), the second waits for the writer, and the
      // rest share the open batch that grew while the queue was not empty.
      expect(batchesWithMine.length).toBeLessThanOrEqual(3);
      const [{ n }] = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [
        machine,
      ]);
      expect(n).toBe(40);
    });
  },
);
