import {
  parseSparkplugTopic,
  parseTelemetryTopic,
  telemetryPayloadSchema,
  telemetryTopic,
  twinTopic,
  alertsTopic,
} from '@continuum/contracts';

describe('topics', () => {
  it('builds and parses telemetry topics', () => {
    expect(telemetryTopic('p1', 'pump-7')).toBe('plants/p1/machines/pump-7/telemetry');
    expect(parseTelemetryTopic('plants/p1/machines/pump-7/telemetry')).toEqual({ plantId: 'p1', machineId: 'pump-7' });
    expect(twinTopic('p1', 'm')).toBe('plants/p1/machines/m/twin');
    expect(alertsTopic('p1')).toBe('plants/p1/alerts');
  });

  it.each([
    'plants/p1/machines/m1/twin',
    'plants/p1/machines/telemetry',
    'plants//machines/m1/telemetry',
    'plants/p1/machines/m 1/telemetry',
    'x/plants/p1/machines/m1/telemetry',
  ])('refuses %s as a telemetry topic', (topic) => {
    expect(parseTelemetryTopic(topic)).toBeNull();
  });

  it('parses Sparkplug B topics with and without a device', () => {
    expect(parseSparkplugTopic('spBv1.0/plantA/DDATA/edge1/dev2')).toEqual({
      group: 'plantA',
      messageType: 'DDATA',
      edgeNode: 'edge1',
      device: 'dev2',
    });
    expect(parseSparkplugTopic('spBv1.0/plantA/NBIRTH/edge1')).toMatchObject({
      messageType: 'NBIRTH',
      device: undefined,
    });
    expect(parseSparkplugTopic('spBv1.0/plantA/NOPE/edge1')).toBeNull();
    expect(parseSparkplugTopic('spBv1.0/plantA/DDATA/edge1/')).toBeNull();
  });
});

describe('telemetry payload', () => {
  it('accepts one sample with an ISO timestamp and converts it to epoch ms', () => {
    const parsed = telemetryPayloadSchema.parse({ ts: '2026-12-01T10:00:00.250Z', values: { temp: 71.5, vib: 0 } });
    expect(parsed).toEqual({ ts: Date.parse('2026-12-01T10:00:00.250Z'), values: { temp: 71.5, vib: 0 } });
  });

  it('accepts an array of samples with epoch milliseconds and seq', () => {
    const parsed = telemetryPayloadSchema.parse([
      { ts: 1796000000000, values: { a: 1 }, seq: 3 },
      { ts: '2026-12-01T10:00:00+01:00', values: { a: 2 } },
    ]);
    expect(parsed).toEqual([
      { ts: 1796000000000, values: { a: 1 }, seq: 3 },
      { ts: Date.parse('2026-12-01T09:00:00Z'), values: { a: 2 } },
    ]);
  });

  it.each([
    ['a string for a number', { ts: 1, values: { a: '1' } }],
    ['null value', { ts: 1, values: { a: null } }],
    ['empty values', { ts: 1, values: {} }],
    ['no ts', { values: { a: 1 } }],
    ['timestamp without zone', { ts: '2026-12-01T10:00:00', values: { a: 1 } }],
    ['impossible date', { ts: '2026-13-45T10:00:00Z', values: { a: 1 } }],
    ['fractional epoch', { ts: 1.5, values: { a: 1 } }],
    ['unknown field', { ts: 1, values: { a: 1 }, extra: true }],
    ['nested object value', { ts: 1, values: { a: { b: 1 } } }],
    ['bad sensor name', { ts: 1, values: { 'a/b': 1 } }],
    ['empty array', []],
    ['negative seq', { ts: 1, values: { a: 1 }, seq: -1 }],
  ])('refuses %s', (_, payload) => {
    expect(telemetryPayloadSchema.safeParse(payload).success).toBe(false);
  });

  it('refuses non-finite numbers that reach it from JavaScript', () => {
    expect(telemetryPayloadSchema.safeParse({ ts: 1, values: { a: Number.NaN } }).success).toBe(false);
    expect(telemetryPayloadSchema.safeParse({ ts: 1, values: { a: Infinity } }).success).toBe(false);
  });
});
