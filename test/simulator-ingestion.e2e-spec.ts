import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { waitFor } from '@continuum/runtime';
import { startIngestion, type IngestionHarness } from '../apps/ingestion/src/testing/ingestion-harness';
import { DEFAULT_NETWORK } from '../apps/simulator/src/plant/network';
import { Plant, SimulationRunner } from '../apps/simulator/src';

/**
 * Simulator -> broker -> ingestion -> database, through JSON and Sparkplug B: every machine of a
 * mixed plant ends up with its readings stored, as many as the plant published.
 */
describe('simulated plant into the database', () => {
  let testDb: TestDatabase;
  let ingestion: IngestionHarness;

  beforeAll(async () => {
    testDb = await createTestDatabase('embedded');
    ingestion = await startIngestion(testDb.config);
  });
  afterAll(async () => {
    await ingestion?.close();
    await testDb?.drop();
  });

  it('stores every published reading of every machine, JSON and Sparkplug B alike', async () => {
    // No duplicates on the simulated network, so rows stored must equal readings published
    // exactly (duplicates are covered by the ingestion tests); drops, delays and outages stay on.
    const plant = new Plant({
      machines: 6,
      protocol: 'mixed',
      seed: 11,
      startMs: Date.now() - 2 * 86_400_000,
      network: { ...DEFAULT_NETWORK, duplicateRate: 0 },
    });
    const runner = new SimulationRunner(plant, {
      url: ingestion.url,
      clientIdPrefix: 'e2e-sim',
      qos: 1,
      speed: 86_400 * 4,
      tickMs: 50,
      catchUp: false,
      duration: 6 * 3600,
    });
    try {
      await runner.start();
      await runner.finished();
    } finally {
      await runner.stop();
    }
    const published = plant.stats.readings;
    expect(published).toBeGreaterThan(1000);
    const stored = await waitFor(
      async () => {
        const [{ n }] = await ingestion.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings`);
        return n >= published ? n : undefined;
      },
      60_000,
      `${published} readings in the database`,
    );
    expect(stored).toBe(published);

    const perMachine = await ingestion.query<{ machine_id: string; n: number }>(
      `SELECT machine_id, count(*)::int AS n FROM readings GROUP BY machine_id`,
    );
    const counts = new Map(perMachine.map((r) => [r.machine_id, r.n]));
    const machines = plant.slots.map((s) => s.info);
    expect(machines.some((m) => m.protocol === 'json') && machines.some((m) => m.protocol === 'sparkplug')).toBe(true);
    for (const m of machines) expect(counts.get(m.machineId) ?? 0).toBeGreaterThan(0);
    expect([...counts.keys()].sort()).toEqual(machines.map((m) => m.machineId).sort());
    // Machines were registered on first sight with the sensors they published.
    const registered = await ingestion.query<{ id: string; n: number }>(
      `SELECT id, jsonb_array_length(sensors)::int AS n FROM machines`,
    );
    for (const m of machines) expect(registered.find((r) => r.id === m.machineId)?.n).toBe(m.sensors.length);
    const [{ bad }] = await ingestion.query<{ bad: number }>(`SELECT count(*)::int AS bad FROM dead_letters`);
    expect(bad).toBe(0);
  }, 120_000);
});
