import fc from 'fast-check';
import { DEAD_LETTER_REASONS } from '@continuum/contracts';
import { decodeJsonTelemetry } from './json-telemetry.decoder';

/** Property tests of the JSON telemetry decoder: round trips, agreement with the zod contract, no throw. */

const NOW = Date.parse('2026-06-01T12:00:00Z');
const WINDOW = { maxFutureMs: 300_000, maxAgeMs: 365 * 86_400_000 };
const ADDRESS = { plantId: 'plant-p', machineId: 'machine-m' };

/** Prototype keys never become sensors (see the last test), so valid payloads do without them. */
const RESERVED = ['__proto__', 'constructor', 'prototype'];
const sensorName = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/).filter((s) => !RESERVED.includes(s));
const sample = fc.record(
  {
    ts: fc.oneof(
      fc.integer({ min: NOW - WINDOW.maxAgeMs + 1000, max: NOW + WINDOW.maxFutureMs - 1000 }),
      fc
        .integer({ min: NOW - WINDOW.maxAgeMs + 1000, max: NOW + WINDOW.maxFutureMs - 1000 })
        .map((ms) => new Date(ms).toISOString()),
    ),
    values: fc.dictionary(sensorName, fc.double({ noNaN: true, noDefaultInfinity: true }), {
      minKeys: 1,
      maxKeys: 8,
    }),
    seq: fc.integer({ min: 0, max: 1_000_000 }),
  },
  { requiredKeys: ['ts', 'values'] },
);
const payload = fc.oneof(sample, fc.array(sample, { minLength: 1, maxLength: 20 }));

const asMs = (ts: number | string) => (typeof ts === 'number' ? ts : Date.parse(ts));

describe('decodeJsonTelemetry (properties)', () => {
  it('round-trips every valid payload: one reading per sample and sensor, values bit for bit', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const decoded = decodeJsonTelemetry(ADDRESS, Buffer.from(JSON.stringify(p)), NOW, WINDOW);
        expect(decoded.rejection).toBeUndefined();
        const samples = Array.isArray(p) ? p : [p];
        const expected = samples.flatMap((s) =>
          Object.entries(s.values).map(([sensor, value]) => ({
            machineId: ADDRESS.machineId,
            sensor,
            time: asMs(s.ts),
            // JSON has no -0: it is written as 0.
            value: Object.is(value, -0) ? 0 : value,
          })),
        );
        expect(decoded.readings).toEqual(expected);
        expect(decoded.machines).toEqual([
          { id: ADDRESS.machineId, plantId: ADDRESS.plantId, sensors: [...new Set(expected.map((r) => r.sensor))] },
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('decides like the zod contract on any JSON value (the fast path agrees with the reference)', () => {
    // Arbitrary JSON, and near-misses: valid samples with one field replaced by any JSON value.
    const nearMiss = fc
      .tuple(sample, fc.constantFrom('ts', 'values', 'seq', 'extra'), fc.jsonValue())
      .map(([s, key, v]) => ({ ...s, [key]: v }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearMiss, fc.array(nearMiss, { maxLength: 3 })), (value) => {
        const bytes = Buffer.from(JSON.stringify(value) ?? 'null');
        const fast = decodeJsonTelemetry(ADDRESS, bytes, NOW, WINDOW, 'fast');
        const zod = decodeJsonTelemetry(ADDRESS, bytes, NOW, WINDOW, 'zod');
        expect(fast.rejection?.reason).toBe(zod.rejection?.reason);
        expect(fast.readings).toEqual(zod.readings);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary bytes: a typed refusal (a dead-letter reason) or readings', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
      // Valid payloads with bytes flipped or cut.
      fc.tuple(payload, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([p, at, byte, cut]) => {
        const b = Buffer.from(JSON.stringify(p));
        if (cut) return b.subarray(0, at % (b.length + 1));
        b[at % b.length] = byte;
        return b;
      }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const decoded = decodeJsonTelemetry(ADDRESS, Buffer.from(b), NOW, WINDOW);
        if (decoded.rejection) {
          expect(DEAD_LETTER_REASONS).toContain(decoded.rejection.reason);
          expect(decoded.readings).toEqual([]);
        } else {
          for (const r of decoded.readings) expect(Number.isFinite(r.value)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never makes a sensor of a __proto__ key, nor touches a prototype', () => {
    for (const validation of ['fast', 'zod'] as const) {
      const bytes = Buffer.from(`{"ts":${NOW},"values":{"__proto__":1,"temp":2}}`);
      const decoded = decodeJsonTelemetry(ADDRESS, bytes, NOW, WINDOW, validation);
      expect(decoded.readings.map((r) => r.sensor)).not.toContain('__proto__');
      expect(({} as Record<string, unknown>).temp).toBeUndefined();
    }
  });
});
