import { MachinesRepository, ReadingsRepository, type Database, type Reading } from '@continuum/persistence';
import { plantModels } from '../../../simulator/src/models';
import { DEFAULT_BEHAVIOUR, SimulatedMachine } from '../../../simulator/src/plant/machine';
import { Rng } from '../../../simulator/src/random/rng';

/** Start of the simulated history in the test fixtures. */
export const T0 = Date.parse('2026-01-05T00:00:00Z');

/**
 * Registers `machines` simulated machines of an asset type and stores `hours` of their readings
 * (the simulator's physical models, irregular Poisson sensor arrivals, regime changes).
 */
export async function seedSimulatedFleet(
  db: Database,
  assetType: string,
  machines: number,
  hours: number,
  seed = 1,
): Promise<{ machineIds: string[]; readings: number }> {
  const model = plantModels().find((m) => m.assetType === assetType);
  if (!model) throw new Error(`no simulator model for ${assetType}`);
  const rng = new Rng(seed);
  const machinesRepo = new MachinesRepository(db.dataSource);
  const readingsRepo = new ReadingsRepository(db.dataSource);
  const ids: string[] = [];
  let total = 0;
  for (let k = 0; k < machines; k++) {
    const id = `${assetType}-${seed}-${k}`;
    ids.push(id);
    await machinesRepo.upsert({ id, plantId: 'plant-t', assetType });
    const m = new SimulatedMachine(id, model, rng.fork(id), { ...DEFAULT_BEHAVIOUR, meanRegimeDuration: 3 * 3600 });
    const step = m.advance(hours * 3600);
    const readings: Reading[] = [];
    for (const s of step.samples)
      for (const [sensor, value] of Object.entries(s.values))
        if (Number.isFinite(value)) readings.push({ machineId: id, sensor, time: T0 + Math.round(s.t * 1000), value });
    for (let i = 0; i < readings.length; i += 5000) total += await readingsRepo.insertMany(readings.slice(i, i + 5000));
  }
  return { machineIds: ids, readings: total };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function until<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Hyperparameters of a tiny model that trains in seconds (tests only). */
export const TINY_HYPERPARAMETERS = {
  epochs: 3,
  hidden: 4,
  odeHidden: [8],
  batchSize: 4,
  batchesPerEpoch: 2,
  window: 8,
  rtol: 1e-2,
  atol: 1e-3,
};
