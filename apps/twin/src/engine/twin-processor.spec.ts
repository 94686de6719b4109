import { twinMessageSchema, type TwinMessage } from '@continuum/contracts';
import { DEFAULT_SOLVER, disposeTwinModel, type TwinModel } from '@continuum/neural';
import { initTensorBackend } from '@continuum/ode';
import { machineInfo, randomTwinModel } from '../testing/fixtures';
import { TwinProcessor, type TwinReading } from './twin-processor';

describe('TwinProcessor messages and the TwinMessage contract', () => {
  let model: TwinModel;
  let processor: TwinProcessor;
  const machines = (id: string) => (id.startsWith('m') ? machineInfo(id) : undefined);
  const reading = (machineId: string, timeMs: number, temperature: number): TwinReading => ({
    machineId,
    timeMs,
    values: { temperature, vibration: 52, current: 48 },
    receivedAtMs: timeMs,
  });

  beforeAll(async () => {
    await initTensorBackend({ backend: 'wasm', log: () => undefined });
    model = randomTwinModel();
    processor = new TwinProcessor({ solver: DEFAULT_SOLVER, maxLagMs: 60_000, modelFor: () => model });
  });

  afterAll(() => {
    processor.dispose();
    disposeTwinModel(model);
  });

  it('publishes latent and outOfOrder as the contract describes them, and consumers parse them unchanged', () => {
    const t0 = 1_700_000_000_000;
    const first = processor.process(
      [reading('m1', t0, 50), reading('m1', t0 + 2000, 51), reading('m2', t0 + 500, 49)],
      machines,
    );
    // Two readings of m1 in one batch -> two updates in time order; updates count 1, 2.
    const m1 = first.updates.filter((u) => u.message.machineId === 'm1').map((u) => u.message);
    expect(m1.map((m) => m.latent.updates)).toEqual([1, 2]);
    expect(m1.every((m) => m.outOfOrder === undefined)).toBe(true);
    // A reading older than the twin's time (within the lag): folded in at the twin's time, flagged.
    const late = processor.process([reading('m1', t0 + 1000, 50.5)], machines);
    expect(late.stats.outOfOrder).toBe(1);
    const lateMessage = late.updates[0].message;
    expect(lateMessage.outOfOrder).toBe(true);
    expect(lateMessage.ts).toBe(t0 + 2000);
    expect(lateMessage.latent.updates).toBe(3);

    const all = [...first.updates, ...late.updates].map((u) => u.message);
    for (const message of all) {
      expect(message.latent.norm).toBeGreaterThan(0);
      expect(message.latent.spread).toBeGreaterThan(0);
      // As consumers receive it (JSON over MQTT / the bus), parsed with the contract: nothing dropped.
      const wire = JSON.parse(JSON.stringify(message));
      const parsed = twinMessageSchema.parse(wire);
      expect(parsed).toEqual(wire);
      // The published fields are exactly the contract's fields (a new one must be added to it first).
      expect(Object.keys(wire).every((k) => k in twinMessageSchema.shape)).toBe(true);
    }
  });

  it('accepts messages of producers that send neither field, and refuses malformed ones', () => {
    const base: TwinMessage = {
      plantId: 'p',
      machineId: 'm',
      ts: 1,
      modelVersion: 'v',
      prediction: { temperature: { mean: 50, std: 1 } },
      residuals: { temperature: 0.3 },
      anomalyScore: 0.09,
      nfe: 8,
      solverError: 0.1,
    };
    expect(twinMessageSchema.safeParse(base).success).toBe(true);
    expect(twinMessageSchema.safeParse({ ...base, outOfOrder: false }).success).toBe(false);
    expect(twinMessageSchema.safeParse({ ...base, latent: { norm: 1, spread: 0.1 } }).success).toBe(false);
    expect(twinMessageSchema.safeParse({ ...base, latent: { norm: -1, spread: 0.1, updates: 2 } }).success).toBe(false);
    expect(twinMessageSchema.safeParse({ ...base, latent: { norm: 1, spread: 0.1, updates: 2.5 } }).success).toBe(
      false,
    );
  });
});
