import {
  DEFAULT_SOLVER,
  ModelBank,
  OdeRnnModel,
  Rng,
  summariseForecast,
  type MachineForecast,
  type TwinModel,
} from '@continuum/neural';
import { initTensorBackend } from '@continuum/ode';
import { ModelsRepository, TwinStatesRepository, testDatabaseModes } from '@continuum/persistence';
import { uniqueId } from '@continuum/runtime';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../testing/api-harness';

const HOUR = 3_600_000;
const T = Date.parse('2026-11-30T12:00:00Z');
const SENSORS = ['temp', 'vibration'];
const H = [0.4, -0.3, 0.8, 0.1];
const LATENT_VAR = [0.3, 0.3, 0.3, 0.3];

/** The same forecast with the twin's code directly (ModelBank + summariseForecast), for comparison. */
function reference(
  model: TwinModel,
  machineId: string,
  o: { horizonMs: number; points: number; samples: number; seed: number },
  thresholds: Record<string, { above?: number }>,
): MachineForecast {
  const bank = new ModelBank(model, DEFAULT_SOLVER, 1);
  try {
    bank.restore([{ machineId, h: H, latentVar: LATENT_VAR, timeMs: T, stepUnits: 0, updates: 10 }]);
    const rng = new Rng(o.seed);
    const f = bank.forecast([machineId], o.horizonMs / model.timeScaleMs, o.points, o.samples, () => rng.normal());
    return summariseForecast(f, model.sensors, {
      fromMs: () => T,
      thresholds: () => thresholds,
      timeScaleMs: model.timeScaleMs,
      modelVersion: model.version,
    })[0];
  } finally {
    bank.dispose();
  }
}

describe.each(testDatabaseModes())('twin forecast on request (%s database)', (mode) => {
  let api: ApiHarness;
  let viewer: string;
  let model: TwinModel;
  const assetType = `gearbox-${uniqueId()}`;
  const machineId = `${assetType}-1`;
  const plantId = `plant-${uniqueId()}`;
  const url = (q: string) => `/api/v1/machines/${machineId}/twin/forecast?${q}`;

  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu', log: () => undefined });
    api = await startApiHarness(mode, { TWIN_FORECAST_POINTS: '24', TWIN_FORECAST_SAMPLES: '32' });
    viewer = await api.keyFor('viewer');
    const sensors = SENSORS.map((name) => ({ name }));
    expect(
      (await api.call('POST', '/api/v1/machines', ADMIN, { id: machineId, plantId, assetType, sensors })).status,
    ).toBe(201);
    const net = new OdeRnnModel({ obsDim: 2, hiddenDim: 4, odeHidden: [16], seed: 7 });
    const floats = net.params.entries().flatMap(([, v]) => Array.from(v.dataSync()));
    const weights = Buffer.alloc(floats.length * 4);
    floats.forEach((x, i) => weights.writeFloatLE(x, i * 4));
    const normalisation = { features: SENSORS, offset: [60, 2], scale: [10, 0.5], timeScaleMs: HOUR };
    const models = new ModelsRepository(api.proc.infra.database.dataSource);
    const row = await models.insert({
      assetType,
      kind: 'ode-rnn',
      config: net.config as unknown as Record<string, unknown>,
      weights,
      normalisation,
      metrics: {},
      trainingData: {},
      solver: {},
      trainingJobId: null,
    });
    await models.activate(row.id);
    model = {
      id: row.id,
      assetType,
      version: `${assetType}@v1`,
      model: net,
      sensors: SENSORS,
      offset: Float64Array.from(normalisation.offset),
      scale: Float64Array.from(normalisation.scale),
      timeScaleMs: HOUR,
    };
    await new TwinStatesRepository(api.proc.infra.database.dataSource).saveMany([
      {
        machineId,
        modelId: row.id,
        time: new Date(T),
        state: { h: H, latentVar: LATENT_VAR, assetType, modelVersion: `${assetType}@v1` },
        stepSize: 0,
        updates: 10,
      },
    ]);
  });
  afterAll(() => api?.close());

  it('computes a forecast with samples=64: ordered bands, the twin code’s numbers, a RUL distribution', async () => {
    const q = { horizonMs: 6 * HOUR, points: 12, samples: 64, seed: 42 };
    const first = await api.call('GET', url('horizon=6h&points=12&samples=64&seed=42'), viewer);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      machineId,
      source: 'computed',
      modelVersion: `${assetType}@v1`,
      fromMs: T,
      horizonMs: 6 * HOUR,
      samples: 64,
      seed: 42,
      rulMs: null, // no failure thresholds yet
      rulDistribution: [],
      crossingProbability: {},
    });
    expect(first.body.nfe).toBeGreaterThan(0);
    for (const name of SENSORS) {
      const b = first.body.forecastBands[name];
      expect(b.t).toHaveLength(12);
      expect(b.t[0]).toBe(T + HOUR / 2);
      expect(b.t[11]).toBe(T + 6 * HOUR);
      for (let k = 0; k < 12; k++) {
        expect(b.p10[k]).toBeLessThanOrEqual(b.p50[k]);
        expect(b.p50[k]).toBeLessThanOrEqual(b.p90[k]);
        expect(b.p90[k] - b.p10[k]).toBeGreaterThan(0); // 64 distinct draws
      }
    }
    // The same numbers as the twin's own code from the same state and seed (same backend: exact).
    const ref = reference(model, machineId, q, {});
    for (const name of SENSORS)
      for (const p of ['p10', 'p50', 'p90'] as const)
        ref.sensors[name][p].forEach((v, k) => expect(first.body.forecastBands[name][p][k]).toBeCloseTo(v, 9));

    // A failure threshold at the final median of temp: about half the sample means end above it.
    const threshold = first.body.forecastBands.temp.p50[11];
    const sensors = [{ name: 'temp', failureThreshold: { above: threshold } }, { name: 'vibration' }];
    expect((await api.call('PATCH', `/api/v1/machines/${machineId}`, ADMIN, { sensors })).status).toBe(200);
    const withRisk = await api.call('GET', url('horizon=6h&points=12&samples=64&seed=42'), viewer);
    const refRisk = reference(model, machineId, q, { temp: { above: threshold } });
    expect(refRisk.rulMs).not.toBeNull();
    const body = withRisk.body;
    expect(body.rulMs.p10).toBeCloseTo(refRisk.rulMs!.p10, 3);
    expect(body.rulMs.p50).toBeCloseTo(refRisk.rulMs!.p50, 3);
    expect(body.rulMs.p90).toBeCloseTo(refRisk.rulMs!.p90, 3);
    expect(body.crossingProbability.temp).toBeCloseTo(refRisk.crossingProbability.temp, 12);
    expect(body.rulCrossedFraction).toBeCloseTo(body.crossingProbability.temp, 12);
    expect(body.rulCrossedFraction).toBeGreaterThanOrEqual(0.1);
    expect(body.rulDistribution.map((r: { q: number }) => r.q)).toEqual([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]);
    const ms = body.rulDistribution.map((r: { ms: number }) => r.ms);
    for (let i = 1; i < ms.length; i++) expect(ms[i]).toBeGreaterThanOrEqual(ms[i - 1]);
    expect(ms[0]).toBeGreaterThanOrEqual(0);
    expect(ms[ms.length - 1]).toBeLessThanOrEqual(6 * HOUR);
    expect(body.rulDistribution.find((r: { q: number }) => r.q === 0.5).ms).toBeCloseTo(body.rulMs.p50, 3);
  });

  it('follows horizon and points, with the TWIN_FORECAST_* defaults otherwise', async () => {
    const long = (await api.call('GET', url('horizon=12h&points=12&samples=8&seed=1'), viewer)).body;
    expect(long.horizonMs).toBe(12 * HOUR);
    expect(long.forecastBands.temp.t).toHaveLength(12);
    expect(long.forecastBands.temp.t.at(-1)).toBe(T + 12 * HOUR);
    const fine = (await api.call('GET', url('horizon=90m&points=30&samples=8&seed=1'), viewer)).body;
    expect(fine.forecastBands.temp.t).toHaveLength(30);
    expect(fine.forecastBands.temp.t.at(-1)).toBe(T + 90 * 60_000);
    const ms = (await api.call('GET', url(`horizon=${2 * HOUR}&samples=4`), viewer)).body;
    expect(ms.forecastBands.temp.t.at(-1)).toBe(T + 2 * HOUR);
    // No published forecast (no twin runs here) and no parameters: computed with the defaults.
    const plain = await api.call('GET', `/api/v1/machines/${machineId}/twin/forecast`, viewer);
    expect(plain.body).toMatchObject({ source: 'computed', horizonMs: 86_400_000, samples: 32 });
    expect(plain.body.forecastBands.temp.t).toHaveLength(24);
    expect(Number.isInteger(plain.body.seed)).toBe(true);
  });

  it('refuses horizons, samples and points beyond the caps with 400', async () => {
    for (const q of [
      'horizon=8d',
      'horizon=30s',
      'horizon=soon',
      'horizon=-1h',
      'samples=0',
      'samples=257',
      'samples=1.5',
      'points=1',
      'points=201',
      'seed=-1',
    ]) {
      const res = await api.call('GET', url(q), viewer);
      expect([q, res.status, res.type]).toEqual([q, 400, expect.stringContaining('application/problem+json')]);
    }
    expect((await api.call('GET', url('horizon=8d'), viewer)).body.errors).toEqual([
      'horizon must be a duration (90m, 6h, 2d, or milliseconds) from 1m to 7d',
    ]);
    expect((await api.call('GET', url('horizon=7d&samples=256&points=200&seed=3'), viewer)).status).toBe(200);
  });

  it('answers 401, 404 without a checkpoint, 409 for a checkpoint of another model', async () => {
    expect((await api.call('GET', url('samples=4'), null)).status).toBe(401);
    expect((await api.call('GET', '/api/v1/machines/nope/twin/forecast?samples=4', viewer)).status).toBe(404);
    const other = `${assetType}-2`;
    expect((await api.call('POST', '/api/v1/machines', ADMIN, { id: other, plantId, assetType })).status).toBe(201);
    const res = await api.call('GET', `/api/v1/machines/${other}/twin/forecast?samples=4`, viewer);
    expect(res).toMatchObject({ status: 404, body: { detail: expect.stringContaining('checkpoint') } });
    await new TwinStatesRepository(api.proc.infra.database.dataSource).saveMany([
      {
        machineId: other,
        modelId: model.id,
        time: new Date(T),
        state: { h: H, latentVar: LATENT_VAR, assetType, modelVersion: `${assetType}@v0` },
        stepSize: 0,
        updates: 1,
      },
    ]);
    const stale = await api.call('GET', `/api/v1/machines/${other}/twin/forecast?samples=4`, viewer);
    expect(stale).toMatchObject({ status: 409, body: { detail: expect.stringContaining(`@v0, not ${assetType}@v1`) } });
  });
});
