import fc from 'fast-check';
import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload';
import { DEAD_LETTER_REASONS, parseSparkplugTopic, sparkplugSensorName } from '@continuum/contracts';
import { SparkplugDecoder } from './sparkplug.decoder';

/** Property tests of the Sparkplug B decoder: births and data round-trip; no input makes it throw. */

const sparkplug = getSparkplug('spBv1.0')!;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const WINDOW = { maxFutureMs: 300_000, maxAgeMs: 0 };

/** A numeric metric with the value the decoder must read back for it. */
const metricName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}(\/[A-Za-z0-9_]{1,15}){0,2}$/);
const numericMetric = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ type: 'Double', value: v, expected: v })),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ type: 'Float', value: v, expected: v })),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => ({ type: 'Int32', value: v, expected: v })),
  fc.integer({ min: 0, max: 2 ** 16 - 1 }).map((v) => ({ type: 'UInt16', value: v, expected: v })),
  fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).map((v) => ({ type: 'Int64', value: v, expected: v })),
  fc.boolean().map((v) => ({ type: 'Boolean', value: v, expected: v ? 1 : 0 })),
);
const metrics = fc.uniqueArray(fc.tuple(metricName, numericMetric), {
  minLength: 1,
  maxLength: 10,
  selector: ([name]) => sparkplugSensorName(name),
});

const topic = (type: string, device?: string) =>
  parseSparkplugTopic(`spBv1.0/g1/${type}/edge${device ? `/${device}` : ''}`)!;
const encode = (seq: number, ms: Partial<UMetric>[]) =>
  Buffer.from(sparkplug.encodePayload({ timestamp: NOW, seq, metrics: ms as UMetric[] }));

describe('SparkplugDecoder (properties)', () => {
  it('round-trips random births and aliased data: every numeric metric becomes its reading', () => {
    fc.assert(
      fc.property(metrics, fc.integer({ min: 0, max: 255 }), (ms, seq) => {
        const d = new SparkplugDecoder(WINDOW);
        expect(
          d.decode(topic('NBIRTH'), encode(seq, [{ name: 'bdSeq', type: 'UInt64', value: 0 }]), NOW).rejection,
        ).toBeUndefined();
        const birth = d.decode(
          topic('DBIRTH', 'dev'),
          encode(
            (seq + 1) % 256,
            ms.map(([name, m], i) => ({ name, alias: i + 1, type: m.type, value: m.value }) as Partial<UMetric>),
          ),
          NOW,
        );
        expect(birth.rejection).toBeUndefined();
        const expected = ms.map(([name, m]) => ({ sensor: sparkplugSensorName(name), value: m.expected }));
        expect(birth.readings.map((r) => ({ sensor: r.sensor, value: r.value }))).toEqual(expected);
        // Data by alias only, as Sparkplug devices send it.
        const data = d.decode(
          topic('DDATA', 'dev'),
          encode(
            (seq + 2) % 256,
            ms.map(([, m], i) => ({ alias: i + 1, type: m.type, value: m.value }) as Partial<UMetric>),
          ),
          NOW,
        );
        expect(data.rejection).toBeUndefined();
        expect(data.readings.map((r) => ({ sensor: r.sensor, value: r.value, time: r.time }))).toEqual(
          expected.map((e) => ({ ...e, time: NOW })),
        );
        expect(d.gaps).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes or damaged payloads, for every message type: a dead-letter reason or a result', () => {
    const types = fc.constantFrom('NBIRTH', 'NDATA', 'NDEATH', 'DBIRTH', 'DDATA', 'DDEATH', 'NCMD');
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.tuple(metrics, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([ms, at, byte, cut]) => {
        const b = encode(
          0,
          ms.map(([name, m]) => ({ name, type: m.type, value: m.value }) as Partial<UMetric>),
        );
        if (cut) return b.subarray(0, at % (b.length + 1));
        b[at % b.length] = byte;
        return b;
      }),
    );
    const d = new SparkplugDecoder(WINDOW); // one decoder across runs: state must survive garbage too
    fc.assert(
      fc.property(types, bytes, (type, b) => {
        const decoded = d.decode(topic(type, type.startsWith('D') ? 'dev' : undefined), Buffer.from(b), NOW);
        if (decoded.rejection) {
          expect(DEAD_LETTER_REASONS).toContain(decoded.rejection.reason);
          expect(decoded.readings).toEqual([]);
        }
        for (const r of decoded.readings) expect(Number.isFinite(r.value)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
