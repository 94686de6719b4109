import fc from 'fast-check';
import { telemetryPayloadSchema } from '@continuum/contracts';
import { decodeJsonTelemetry } from './json-telemetry.decoder';
import { fastTelemetrySamples } from './telemetry-fast-path';

/**
 * The hand-written telemetry check must agree with the contract's zod schema: whatever it accepts,
 * zod accepts with the same output; whatever zod accepts, it accepts too (else the fast path
 * would be pointless); and the whole decoder gives the same result either way (refusals included,
 * reason and message). Inputs are JSON texts, parsed as ingestion parses them, generated around
 * the schema's edges.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const validSensor = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
const sensorKey = fc.oneof(
  { weight: 8, arbitrary: validSensor },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'a b',
      'x'.repeat(65),
      'y'.repeat(64),
      '__proto__',
      'é',
      '0',
      '17',
      'constructor',
      'toString',
    ),
  },
);
const numberText = fc.oneof(
  { weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('1e999', '-1e999', '-0', '0.0', '1E3', 'null', '"1.5"', 'true', '[]', '{}', '{"a":1}'),
  },
);
const isoTimestamp = fc.oneof(
  fc
    .tuple(
      fc.date({ min: new Date(0), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.constantFrom('Z', '+05:30', '-0800', '+00:00', ''),
      fc.constantFrom('ms', 's', 'min', 'ns'),
    )
    .map(([d, zone, precision]) => {
      const iso = d.toISOString().slice(0, -1); // without the Z
      const body =
        precision === 'min'
          ? iso.slice(0, 16)
          : precision === 's'
            ? iso.slice(0, 19)
            : precision === 'ns'
              ? `${iso}123456`
              : iso;
      return body + zone;
    }),
  // Fields out of range: Date.parse refuses some that the pattern lets through.
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
    .chain(([y, m, d]) =>
      fc
        .tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
        .map(([h, mi]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(mi)}Z`),
    ),
  fc.constantFrom('2026-01-01', '2026-01-01T00:00:00', '2026-01-01t00:00:00Z', '2026-01-01T00:00:00.1234567890Z', ''),
);
const tsText = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4_102_444_800_000 }).map(String) },
  { weight: 4, arbitrary: isoTimestamp.map((s) => JSON.stringify(s)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '8640000000000000',
      '8640000000000001',
      '-1',
      '-0',
      '1.5',
      '9007199254740993',
      'null',
      '"x"',
      '1e999',
    ),
  },
);
const seqText = fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '1.5', '"3"', '9007199254740993', 'null'));

/** One sample's JSON text: usually well formed, sometimes missing a field or carrying an extra one. */
const sampleText = fc
  .record({
    ts: fc.option(tsText, { freq: 12 }),
    values: fc.oneof(
      { weight: 10, arbitrary: fc.array(fc.tuple(sensorKey, numberText), { minLength: 0, maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom<[string, string][] | string>('null', '[]', '[1,2]', '"v"', '3') },
    ),
    seq: fc.option(seqText, { freq: 2 }),
    extra: fc.option(fc.constantFrom('"extra": 1', '"__proto__": {"ts": 1}', '"Values": {}'), { freq: 15 }),
  })
  .map(({ ts, values, seq, extra }) => {
    const parts: string[] = [];
    if (ts !== null) parts.push(`"ts": ${ts}`);
    const v =
      typeof values === 'string' ? values : `{${values.map(([k, x]) => `${JSON.stringify(k)}: ${x}`).join(', ')}}`;
    parts.push(`"values": ${v}`);
    if (seq !== null) parts.push(`"seq": ${seq}`);
    if (extra !== null) parts.push(extra);
    return `{${parts.join(', ')}}`;
  });
/** A sample from valid parts only (the accepted side of the border). */
const goodSampleText = fc
  .record({
    ts: fc.oneof(
      fc.integer({ min: 0, max: 4_102_444_800_000 }).map(String),
      fc
        .date({ min: new Date(0), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => JSON.stringify(d.toISOString())),
    ),
    values: fc.array(
      fc.tuple(
        validSensor,
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
      ),
      { minLength: 1, maxLength: 8 },
    ),
    seq: fc.option(fc.nat().map(String)),
  })
  .map(({ ts, values, seq }) => {
    const v = `{${values.map(([k, x]) => `${JSON.stringify(k)}: ${x}`).join(', ')}}`;
    return `{"ts": ${ts}, "values": ${v}${seq === null ? '' : `, "seq": ${seq}`}}`;
  });
const anySample = fc.oneof(goodSampleText, sampleText);
const payloadText = fc.oneof(
  { weight: 3, arbitrary: goodSampleText },
  { weight: 2, arbitrary: fc.array(goodSampleText, { minLength: 1, maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`) },
  { weight: 4, arbitrary: sampleText },
  { weight: 4, arbitrary: fc.array(anySample, { minLength: 0, maxLength: 5 }).map((xs) => `[${xs.join(', ')}]`) },
  { weight: 1, arbitrary: fc.constantFrom('null', '42', '"text"', '[1]', '[null]', 'true', '[[]]') },
);

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe('fastTelemetrySamples against the zod schema', () => {
  it('accepts exactly what zod accepts, with the same output', () => {
    let accepted = 0;
    fc.assert(
      fc.property(payloadText, (text) => {
        const json: unknown = JSON.parse(text);
        const fast = fastTelemetrySamples(json);
        const zod = telemetryPayloadSchema.safeParse(json);
        if (fast !== null) {
          expect(zod.success).toBe(true);
          expect(fast).toEqual(asArray(zod.data!));
          accepted++;
        } else if (zod.success && !text.includes('"__proto__"')) {
          throw new Error(`zod accepts what the fast path declines: ${text}`);
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must reach both sides of the border.
    expect(accepted).toBeGreaterThan(400);
    expect(accepted).toBeLessThan(3600);
  });

  it.each([
    [
      '256 sensors (the most)',
      JSON.stringify({ ts: 1, values: Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`s${i}`, i])) }),
    ],
    [
      '257 sensors',
      JSON.stringify({ ts: 1, values: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`s${i}`, i])) }),
    ],
    [
      '10,000 samples (the most)',
      JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ ts: i, values: { a: i } }))),
    ],
    ['10,001 samples', JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ ts: i, values: { a: i } })))],
    ['ts at the end of the date range', '{"ts": 8640000000000000, "values": {"a": 1}}'],
    ['ts past it', '{"ts": 8640000000000001, "values": {"a": 1}}'],
    ['ts -0', '{"ts": -0, "values": {"a": -0}}'],
    ['integer-like sensor names (reordered by JavaScript)', '{"ts": 1, "values": {"b": 1, "2": 2, "1": 3}}'],
    ['a __proto__ sensor', '{"ts": 1, "values": {"__proto__": 1, "a": 2}}'],
    ['only a __proto__ sensor', '{"ts": 1, "values": {"__proto__": 1}}'],
    ['duplicate keys (the last wins)', '{"ts": 1, "ts": 2, "values": {"a": 1, "a": 2}}'],
    ['1e999', '{"ts": 1, "values": {"a": 1e999}}'],
  ])('agrees with zod at the edge: %s', (_, text) => {
    const json: unknown = JSON.parse(text);
    const fast = fastTelemetrySamples(json);
    const zod = telemetryPayloadSchema.safeParse(json);
    if (fast !== null) expect(fast).toEqual(asArray(zod.data!));
    else if (!text.includes('__proto__')) expect(zod.success).toBe(false);
  });

  it('gives the same decoded message (readings, machine, or refusal with reason and message) as the zod decoder', () => {
    const address = { plantId: 'p1', machineId: 'm1' };
    const now = Date.parse('2026-06-01T00:00:00Z');
    const window = { maxFutureMs: 300_000, maxAgeMs: 365 * 86_400_000 };
    fc.assert(
      fc.property(payloadText, (text) => {
        const payload = Buffer.from(text);
        expect(decodeJsonTelemetry(address, payload, now, window, 'fast')).toEqual(
          decodeJsonTelemetry(address, payload, now, window, 'zod'),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
