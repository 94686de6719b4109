import {
  AlertRulesRepository,
  MachinesRepository,
  openTestDatabase,
  testDatabaseModes,
  TwinPredictionsRepository,
  type OpenTestDatabase,
  type TwinPredictionRow,
} from '@continuum/persistence';
import { loadConfig } from '@continuum/config';
import { createDetector } from '../detectors/detectors';
import { referenceToParams } from '../detectors/mewma';
import { SeededRandom } from '../testing/synthetic';
import { calibrateFromHistory } from './calibration';
import { DEFAULT_RULES } from './default-rules';
import { RulesService } from './rules.service';

const MIN = 60_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

/**
 * Stored predictions of a machine, one a minute for `hours`: sensors a and b share a slow common
 * mode (their averages correlate), c is independent; `version` names the model.
 */
function rows(machineId: string, seed: number, hours: number, version: string): TwinPredictionRow[] {
  const rng = new SeededRandom(seed);
  let common = 0;
  return Array.from({ length: hours * 60 }, (_, i) => {
    common = 0.98 * common + 0.2 * rng.normal();
    const z = { a: common + 0.3 * rng.normal(), b: common + 0.3 * rng.normal(), c: rng.normal() };
    return {
      time: T0 + i * MIN,
      machineId,
      modelVersion: version,
      anomalyScore: 1,
      nfe: 10,
      solverError: 0,
      sensors: Object.fromEntries(Object.entries(z).map(([s, v]) => [s, { mean: 0, std: 1, value: v, z: v }])),
    };
  });
}

describe.each(testDatabaseModes())('residual-mewma calibration from twin_predictions (%s)', (mode) => {
  let db: OpenTestDatabase;
  let repos: { machines: MachinesRepository; predictions: TwinPredictionsRepository };

  beforeAll(async () => {
    db = await openTestDatabase(mode);
    const ds = db.db.dataSource;
    await ds.query(
      `INSERT INTO machines (id, plant_id, asset_type, name) VALUES
         ('pump-1', 'p', 'pump', 'P1'), ('pump-2', 'p', 'pump', 'P2'), ('motor-1', 'p', 'motor', 'M1')`,
    );
    repos = { machines: new MachinesRepository(ds), predictions: new TwinPredictionsRepository(ds) };
    // 12 h of an old model on pump-1, then 12 h of the current one on both pumps (pump-1's over 10,000
    // rows: read in pages).
    await repos.predictions.insertMany(
      rows('pump-1', 1, 12, 'pump@v1').map((r) => ({ ...r, time: r.time - 12 * 60 * MIN })),
    );
    await repos.predictions.insertMany(rows('pump-1', 2, 180, 'pump@v2'));
    await repos.predictions.insertMany(rows('pump-2', 3, 12, 'pump@v2'));
  }, 120_000);

  afterAll(() => db?.close());

  it('fits the reference of the newest model version from every machine of the asset type', async () => {
    const lines: string[] = [];
    const cal = await calibrateFromHistory(
      repos,
      { assetType: 'pump', from: new Date(T0 - 86_400_000), to: new Date(T0 + 200 * 60 * MIN) },
      (l) => lines.push(l),
    );
    expect(cal.modelVersion).toBe('pump@v2');
    expect(cal.reference.sensors).toEqual(['a', 'b', 'c']);
    expect(cal.machines.map((m) => [m.machineId, m.rows])).toEqual([
      ['pump-1', 180 * 60],
      ['pump-2', 12 * 60],
    ]);
    // One sample per 5 minutes once the hour of settling has passed: (180 − 1) · 12 + (12 − 1) · 12, give or take one.
    expect(Math.abs(cal.samples - (179 * 12 + 11 * 12))).toBeLessThanOrEqual(2);
    expect(cal.correlation[0][1]).toBeGreaterThan(0.8);
    expect(Math.abs(cal.correlation[0][2])).toBeLessThan(0.3);
    expect(lines).toHaveLength(2);
    // What it fitted is a reference a rule can use.
    const rule = { detector: 'residual-mewma' as const, params: referenceToParams(cal.reference), sensors: null };
    expect(() => createDetector({ ...rule, raiseAt: 30, clearAt: 12 })).not.toThrow();
  });

  it('keeps to the machines and the model version asked for, and saves the reference as a rule', async () => {
    const cal = await calibrateFromHistory(repos, {
      assetType: 'pump',
      machineIds: ['pump-1'],
      modelVersion: 'pump@v1',
      from: new Date(T0 - 86_400_000),
      to: new Date(T0),
    });
    expect(cal.machines).toEqual([{ machineId: 'pump-1', rows: 12 * 60, samples: cal.samples }]);
    const rules = new RulesService(new AlertRulesRepository(db.db.dataSource), loadConfig({}).alerting);
    // Adding a rule to an empty table would drop the defaults: they are stored first, once.
    const defaults = await rules.storeDefaultsIfInForce();
    expect(defaults.map((r) => r.name).sort()).toEqual(DEFAULT_RULES.map((r) => r.name).sort());
    expect(defaults.find((r) => r.assetType === 'air-compressor')?.modelVersion).toBe('default:air-compressor');
    expect(await rules.storeDefaultsIfInForce()).toEqual([]);
    const saved = await rules.create({
      name: 'pump pattern',
      assetType: 'pump',
      detector: 'residual-mewma',
      modelVersion: cal.modelVersion,
      params: { ...referenceToParams(cal.reference), holdMinutes: 30 },
      raiseAt: 80,
      clearAt: 32,
      severity: 'major',
    });
    const stored = await rules.get(saved.id);
    expect(stored.params['cov.a.b']).toBeCloseTo(cal.reference.covariance[0][1], 12);
    expect(stored.modelVersion).toBe('pump@v1');
  });

  it('says why it cannot fit', async () => {
    const period = { from: new Date(T0 - 86_400_000), to: new Date(T0 + 200 * 60 * MIN) };
    await expect(calibrateFromHistory(repos, { assetType: 'fan', ...period })).rejects.toThrow(
      'no machine of asset type fan',
    );
    await expect(calibrateFromHistory(repos, { assetType: 'motor', ...period })).rejects.toThrow(
      'no stored twin prediction for motor-1',
    );
    await expect(
      calibrateFromHistory(repos, { assetType: 'pump', machineIds: ['pump-1', 'motor-1'], ...period }),
    ).rejects.toThrow('not machines of asset type pump: motor-1');
    await expect(
      calibrateFromHistory(repos, { assetType: 'pump', from: new Date(T0), to: new Date(T0 + 30 * MIN) }),
    ).rejects.toThrow(/needs at least 30 samples/);
    await expect(
      calibrateFromHistory(repos, { assetType: 'pump', from: new Date(T0), to: new Date(T0) }),
    ).rejects.toThrow('the period is empty');
  });
});
