import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload';
import { InternalEvent, telemetryTopic, type ReadingsStoredEvent } from '@continuum/contracts';
import { MachinesRepository } from '@continuum/persistence';
import { TelemetryConsumer } from './mqtt/telemetry.consumer';
import { IngestionService } from './pipeline/ingestion.service';
import {
  ingestionModes,
  startIngestionOnTestDatabase,
  unique,
  waitFor,
  type IngestionHarness,
} from './testing/ingestion-harness';

const sparkplug = getSparkplug('spBv1.0')!;
const spb = (seq: number | undefined, metrics: Partial<UMetric>[], timestamp = Date.now()) =>
  Buffer.from(sparkplug.encodePayload({ timestamp, seq, metrics: metrics as UMetric[] }));
/** The embedded broker's packet limit raised above the 10 MB bad-input case, so ingestion's own limit is tested. */
const BIG_PACKETS = { MQTT_MAX_PACKET_BYTES: String(16 * 1024 * 1024) };

describe.each(ingestionModes())('ingestion ($name)', ({ db, mqttUrl }) => {
  let h: IngestionHarness;

  beforeAll(async () => {
    h = await startIngestionOnTestDatabase(db, { mqttUrl, env: BIG_PACKETS });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const count = async (machineId: string) =>
    (await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [machineId]))[0].n;
  const waitCount = (machineId: string, n: number, ms = 15_000) =>
    waitFor(async () => ((await count(machineId)) >= n ? true : undefined), ms, `${n} readings of ${machineId}`);

  it('stores single and array JSON payloads, registers the machine and announces the batch', async () => {
    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const pub = await h.publisher();
    const announced: ReadingsStoredEvent[] = [];
    await pub.subscribe(InternalEvent.ReadingsStored, 1);
    pub.client.on('message', (topic, payload) => {
      if (topic === InternalEvent.ReadingsStored) {
        const event = JSON.parse(payload.toString()).data as ReadingsStoredEvent;
        if (event.machines.some((m) => m.machineId === machine)) announced.push(event);
      }
    });
    const t0 = Date.now() - 60_000;
    await pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t0, values: { temp: 71.5, vib: 0.25 } }));
    await pub.publish(
      telemetryTopic(plant, machine),
      JSON.stringify([
        { ts: new Date(t0 + 1000).toISOString(), values: { temp: 72 }, seq: 1 },
        { ts: t0 + 2000, values: { temp: 72.5, rpm: 1500 } },
      ]),
    );
    await waitCount(machine, 5);
    const rows = await h.query<{ sensor: string; t: string; value: number }>(
      `SELECT sensor, (extract(epoch FROM time) * 1000)::bigint::text AS t, value FROM readings
       WHERE machine_id = $1 ORDER BY time, sensor`,
      [machine],
    );
    expect(rows.map((r) => [r.sensor, Number(r.t) - t0, r.value])).toEqual([
      ['temp', 0, 71.5],
      ['vib', 0, 0.25],
      ['temp', 1000, 72],
      ['rpm', 2000, 1500],
      ['temp', 2000, 72.5],
    ]);
    const [m] = await h.query<{ plant_id: string; sensors: { name: string }[] }>(
      `SELECT plant_id, sensors FROM machines WHERE id = $1`,
      [machine],
    );
    expect(m.plant_id).toBe(plant);
    expect(m.sensors.map((s) => s.name).sort()).toEqual(['rpm', 'temp', 'vib']);
    await waitFor(() => (announced.length > 0 ? true : undefined), 5000, 'the ReadingsStored event');
    const span = announced.flatMap((e) => e.machines).filter((x) => x.machineId === machine);
    expect(span[0]).toMatchObject({ plantId: plant });
    expect(span.reduce((n, s) => n + s.count, 0)).toBeGreaterThanOrEqual(2);
  });

  it('stores times to the millisecond and values as the same doubles', async () => {
    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const pub = await h.publisher();
    const t0 = Date.now() - 90_000;
    const values = [0.1 + 0.2, -1.5e-300, 1.7976931348623157e308, -0, Math.PI * 1e8, 5e-324];
    await pub.publish(
      telemetryTopic(plant, machine),
      JSON.stringify(values.map((v, i) => ({ ts: t0 + i * 7 + 1, values: { x: v } }))),
    );
    await waitCount(machine, values.length);
    const rows = await h.query<{ t: string; value: number }>(
      `SELECT (extract(epoch FROM time) * 1000)::bigint::text AS t, value FROM readings
       WHERE machine_id = $1 ORDER BY time`,
      [machine],
    );
    expect(rows.map((r) => Number(r.t))).toEqual(values.map((_, i) => t0 + i * 7 + 1));
    // JSON has no -0: it arrives as 0.
    expect(rows.map((r) => r.value)).toEqual(values.map((v) => (Object.is(v, -0) ? 0 : v)));
  });

  it('stores a message sent twice (and overlapping samples) once', async () => {
    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const pub = await h.publisher();
    const ts = Date.now() - 1000;
    const message = JSON.stringify({ ts, values: { a: 1, b: 2 } });
    await pub.publish(telemetryTopic(plant, machine), message);
    await pub.publish(telemetryTopic(plant, machine), message);
    await pub.publish(
      telemetryTopic(plant, machine),
      JSON.stringify([
        { ts, values: { a: 1 } },
        { ts: ts + 1, values: { a: 3 } },
      ]),
    );
    await waitCount(machine, 3);
    await h.service.flush();
    expect(await count(machine)).toBe(3);
  });

  it('dead-letters at least 15 kinds of bad input with their reasons, stores every good message between them', async () => {
    const plant = `p${unique()}`;
    const good = `good${unique()}`;
    const bad = `bad${unique()}`;
    const topic = telemetryTopic(plant, bad);
    const now = Date.now();
    const cases: [string, string | Buffer, string, string?][] = [
      ['truncated JSON', '{"ts": 1, "values": {"a": 1', 'not-json'],
      ['not JSON at all', 'hello', 'not-json'],
      ['NaN literal', `{"ts": ${now}, "values": {"a": NaN}}`, 'not-json'],
      ['1e999 overflows to Infinity', `{"ts": ${now}, "values": {"a": 1e999}}`, 'non-finite-value'],
      ['string for a number', JSON.stringify({ ts: now, values: { a: '1.5' } }), 'wrong-shape'],
      ['null value', JSON.stringify({ ts: now, values: { a: null } }), 'wrong-shape'],
      ['nested garbage', JSON.stringify({ ts: now, values: { a: { b: [1, { c: 2 }] } } }), 'wrong-shape'],
      ['empty values', JSON.stringify({ ts: now, values: {} }), 'wrong-shape'],
      ['empty array', '[]', 'wrong-shape'],
      ['no ts', JSON.stringify({ values: { a: 1 } }), 'wrong-shape'],
      ['unknown field', JSON.stringify({ ts: now, values: { a: 1 }, extra: 1 }), 'wrong-shape'],
      ['JSON scalar', '42', 'wrong-shape'],
      [
        'too many samples',
        JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ ts: now - i, values: { a: i } }))),
        'wrong-shape',
      ],
      ['future timestamp', JSON.stringify({ ts: now + 86_400_000, values: { a: 1 } }), 'timestamp-out-of-window'],
      [
        'ancient timestamp',
        JSON.stringify({ ts: '1999-01-01T00:00:00Z', values: { a: 1 } }),
        'timestamp-out-of-window',
      ],
      ['10 MB payload', Buffer.alloc(10 * 1024 * 1024, 0x20), 'payload-too-large'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid-utf8'],
      ['wrong protobuf', '{"ts": 1, "values": {"a": 1}}', 'not-protobuf', `spBv1.0/${plant}/DDATA/edge/${bad}`],
      [
        'random bytes as Sparkplug',
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        'not-protobuf',
        `spBv1.0/${plant}/NDATA/edge`,
      ],
      [
        'alias never born',
        spb(0, [{ alias: 99, type: 'Double', value: 1 }]),
        'unknown-alias',
        `spBv1.0/${plant}/DDATA/nobirth/${bad}`,
      ],
      [
        'machine id with a space',
        JSON.stringify({ ts: now, values: { a: 1 } }),
        'bad-topic',
        `plants/${plant}/machines/${bad} x/telemetry`,
      ],
      ['bad sensor name', JSON.stringify({ ts: now, values: { 'a b': 1 } }), 'wrong-shape'],
    ];
    const pub = await h.publisher();
    const before = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters`);
    for (let i = 0; i < cases.length; i++) {
      const [, payload, , t] = cases[i];
      await pub.publish(telemetryTopic(plant, good), JSON.stringify({ ts: now - 10_000 + i, values: { ok: i } }));
      await pub.publish(t ?? topic, payload);
    }
    await pub.publish(telemetryTopic(plant, good), JSON.stringify({ ts: now, values: { ok: 99 } }));
    await waitCount(good, cases.length + 1, 30_000);
    await waitFor(
      async () => {
        const [r] = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters`);
        return r.n - before[0].n >= cases.length ? true : undefined;
      },
      15_000,
      'every bad message in dead_letters',
    );
    const letters = await h.query<{ source: string; reason: string; payload_bytes: number; payload: string }>(
      `SELECT source, reason, payload_bytes, payload FROM dead_letters
       WHERE source LIKE $1 ORDER BY id`,
      [`%${plant}%`],
    );
    expect(letters.map((l) => l.reason)).toEqual(cases.map((c) => c[2]));
    expect(new Set(cases.map((c) => c[2])).size).toBeGreaterThanOrEqual(9);
    const big = letters.find((l) => l.reason === 'payload-too-large')!;
    expect(big.payload_bytes).toBe(10 * 1024 * 1024);
    expect(big.payload.length).toBeLessThanOrEqual(4096);
    expect(await count(bad)).toBe(0);
    expect(await count(good)).toBe(cases.length + 1);
    const metrics = await h.proc.infra.metrics.getSingleMetricAsString('ingestion_messages_rejected_total');
    expect(metrics).toMatch(/reason="payload-too-large"} [1-9]/);
    expect(h.proc.app.get(IngestionService).degraded).toBeNull();
  });

  it('decodes Sparkplug B: births bind aliases, data resolves them, gaps and deaths are recorded', async () => {
    const group = `g${unique()}`;
    const node = `edge${unique()}`;
    const device = 'press1';
    const machine = `${node}.${device}`;
    const pub = await h.publisher();
    const t = Date.now() - 5000;
    const base = `spBv1.0/${group}`;
    await pub.publish(
      `${base}/NBIRTH/${node}`,
      spb(
        0,
        [
          { name: 'bdSeq', type: 'UInt64', value: 0 },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          { name: 'cpu', alias: 1, type: 'Float', value: 0.5 },
        ],
        t,
      ),
    );
    await pub.publish(
      `${base}/DBIRTH/${node}/${device}`,
      spb(
        1,
        [
          { name: 'Motor/Temperature', alias: 10, type: 'Double', value: 60.5 },
          { name: 'Pressure', alias: 11, type: 'Int32', value: 120 },
          { name: 'Running', alias: 12, type: 'Boolean', value: true },
          { name: 'Label', alias: 13, type: 'String', value: 'press one' },
        ],
        t,
      ),
    );
    await pub.publish(
      `${base}/DDATA/${node}/${device}`,
      spb(
        2,
        [
          { alias: 10, type: 'Double', value: 61.25 },
          { alias: 11, type: 'Int32', value: 125 },
          { alias: 10, type: 'Double', value: 59, isHistorical: true, timestamp: t - 60_000 },
        ],
        t + 1000,
      ),
    );
    await waitCount(machine, 6);
    const rows = await h.query<{ sensor: string; dt: string; value: number }>(
      `SELECT sensor, ((extract(epoch FROM time) * 1000)::bigint - $2)::text AS dt, value FROM readings
       WHERE machine_id = $1 ORDER BY time, sensor`,
      [machine, t],
    );
    expect(rows.map((r) => [r.sensor, Number(r.dt), r.value])).toEqual([
      ['Motor.Temperature', -60_000, 59],
      ['Motor.Temperature', 0, 60.5],
      ['Pressure', 0, 120],
      ['Running', 0, 1],
      ['Motor.Temperature', 1000, 61.25],
      ['Pressure', 1000, 125],
    ]);
    expect(await count(node)).toBe(1); // the node's own metric (cpu), not bdSeq or Node Control
    const [m] = await h.query<{ plant_id: string }>(`SELECT plant_id FROM machines WHERE id = $1`, [machine]);
    expect(m.plant_id).toBe(group);

    // seq 3 and 4 never arrive: a gap of 2.
    await pub.publish(`${base}/DDATA/${node}/${device}`, spb(5, [{ alias: 11, type: 'Int32', value: 130 }], t + 2000));
    await waitCount(machine, 7);
    await h.service.flush();
    const gaps = await h.query<{ machine_id: string; detail: { missing: number } }>(
      `SELECT machine_id, detail FROM machine_events WHERE kind = 'seq-gap' AND plant_id = $1`,
      [group],
    );
    expect(gaps).toEqual([{ machine_id: node, detail: expect.objectContaining({ expected: 3, got: 5, missing: 2 }) }]);

    await pub.publish(
      `${base}/NDEATH/${node}`,
      spb(undefined, [{ name: 'bdSeq', type: 'UInt64', value: 0 }], t + 3000),
    );
    const stale = await waitFor(
      async () => {
        const rows = await h.query<{ id: string }>(
          `SELECT id FROM machines WHERE plant_id = $1 AND stale_since IS NOT NULL ORDER BY id`,
          [group],
        );
        return rows.length === 2 ? rows.map((r) => r.id) : undefined;
      },
      10_000,
      'the node and its device to be marked stale',
    );
    expect(stale).toEqual([node, machine].sort());
    const deaths = await h.query<{ machine_id: string }>(
      `SELECT machine_id FROM machine_events WHERE kind = 'death' AND plant_id = $1 ORDER BY machine_id`,
      [group],
    );
    expect(deaths.map((d) => d.machine_id)).toEqual([node, machine].sort());

    // Rebirth: data clears the stale flag.
    await pub.publish(
      `${base}/NBIRTH/${node}`,
      spb(0, [{ name: 'cpu', alias: 1, type: 'Float', value: 0.25 }], t + 4000),
    );
    await pub.publish(
      `${base}/DBIRTH/${node}/${device}`,
      spb(1, [{ name: 'Pressure', alias: 11, type: 'Int32', value: 140 }], t + 4000),
    );
    await waitFor(
      async () =>
        (await h.query(`SELECT 1 FROM machines WHERE id = $1 AND stale_since IS NULL`, [machine])).length
          ? true
          : undefined,
      10_000,
      'the device to be fresh again',
    );
  });

  it('registers Sparkplug devices as machines, not an edge node without sensors of its own', async () => {
    const group = `g${unique()}`;
    const node = `gw${unique()}`;
    const pub = await h.publisher();
    const t = Date.now() - 5000;
    const base = `spBv1.0/${group}`;
    await pub.publish(
      `${base}/NBIRTH/${node}`,
      spb(
        0,
        [
          { name: 'bdSeq', type: 'UInt64', value: 3 },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
        ],
        t,
      ),
    );
    // The device's birth declares its sensors without values (as the simulator's does).
    await pub.publish(
      `${base}/DBIRTH/${node}/pump`,
      spb(
        1,
        [
          { name: 'Flow', alias: 1, type: 'Double', value: null, isNull: true },
          { name: 'Bearing/Temp', alias: 2, type: 'Float', value: null, isNull: true },
        ],
        t,
      ),
    );
    await pub.publish(`${base}/DDATA/${node}/pump`, spb(2, [{ alias: 1, type: 'Double', value: 12.5 }], t + 1000));
    await waitCount(`${node}.pump`, 1);
    await h.service.flush();
    const machines = await h.query<{ id: string; sensors: { name: string }[] }>(
      `SELECT id, sensors FROM machines WHERE plant_id = $1 ORDER BY id`,
      [group],
    );
    expect(machines.map((m) => [m.id, m.sensors.map((s) => s.name).sort()])).toEqual([
      [`${node}.pump`, ['Bearing.Temp', 'Flow']],
    ]);
    await pub.publish(
      `${base}/NDEATH/${node}`,
      spb(undefined, [{ name: 'bdSeq', type: 'UInt64', value: 3 }], t + 2000),
    );
    await waitFor(
      async () =>
        (await h.query(`SELECT 1 FROM machines WHERE id = $1 AND stale_since IS NOT NULL`, [`${node}.pump`])).length
          ? true
          : undefined,
      10_000,
      "the device to be marked stale by its node's death",
    );
    expect(await h.query(`SELECT id FROM machines WHERE plant_id = $1`, [group])).toHaveLength(1);
  });
});

describe.each(ingestionModes())('ingestion with INGESTION_REQUIRE_REGISTERED=true ($name)', ({ db, mqttUrl }) => {
  let h: IngestionHarness;

  beforeAll(async () => {
    h = await startIngestionOnTestDatabase(db, { mqttUrl, env: { INGESTION_REQUIRE_REGISTERED: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const count = async (machineId: string) =>
    (await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [machineId]))[0].n;
  const letters = (plant: string) =>
    h.query<{ source: string; reason: string; detail: string }>(
      `SELECT source, reason, detail FROM dead_letters WHERE source LIKE $1 ORDER BY id`,
      [`%/${plant}/%`],
    );

  it('stores readings of registered machines and dead-letters the others as unknown-machine', async () => {
    const plant = `p${unique()}`;
    const known = `known${unique()}`;
    const stranger = `stranger${unique()}`;
    const machines = h.proc.app.get(MachinesRepository);
    expect(await machines.insert({ id: known, plantId: plant, assetType: 'pump' })).toBe(true);
    const pub = await h.publisher();
    const t = Date.now() - 10_000;
    for (let i = 0; i < 3; i++) {
      await pub.publish(telemetryTopic(plant, known), JSON.stringify({ ts: t + i, values: { a: i, b: -i } }));
      await pub.publish(telemetryTopic(plant, stranger), JSON.stringify({ ts: t + i, values: { a: i } }));
    }
    // A Sparkplug device nobody registered is refused the same way.
    await pub.publish(`spBv1.0/${plant}/NBIRTH/edge`, spb(0, [{ name: 'bdSeq', type: 'UInt64', value: 0 }], t));
    await pub.publish(
      `spBv1.0/${plant}/DBIRTH/edge/${stranger}`,
      spb(1, [{ name: 'x', alias: 1, type: 'Double', value: 1 }], t),
    );
    await waitFor(async () => ((await letters(plant)).length >= 4 ? true : undefined), 15_000, 'four dead letters');
    await h.service.flush();
    expect(await count(known)).toBe(6);
    expect(await count(stranger)).toBe(0);
    expect(await count(`edge.${stranger}`)).toBe(0);
    // Two writers commit batches concurrently, so dead letters are compared as a set.
    const refused = (await letters(plant)).map((l) => [l.source, l.reason, l.detail].join(' | ')).sort();
    expect(refused).toEqual(
      [
        ...[0, 1, 2].map(() =>
          [telemetryTopic(plant, stranger), 'unknown-machine', `machine ${stranger} is not registered`].join(' | '),
        ),
        [
          `spBv1.0/${plant}/DBIRTH/edge/${stranger}`,
          'unknown-machine',
          `machine edge.${stranger} is not registered`,
        ].join(' | '),
      ].sort(),
    );
    // Nothing was registered on first sight; the registered machine kept its (empty) sensor list growing.
    const rows = await h.query<{ id: string; sensors: { name: string }[] }>(
      `SELECT id, sensors FROM machines WHERE plant_id = $1`,
      [plant],
    );
    expect(rows.map((r) => [r.id, r.sensors.map((s) => s.name).sort()])).toEqual([[known, ['a', 'b']]]);
    const metric = await h.proc.infra.metrics.getSingleMetricAsString('ingestion_messages_rejected_total');
    expect(metric).toMatch(/reason="unknown-machine"} [4-9]/);

    // Once registered, the same machine's readings are stored (refusals are not remembered).
    expect(await machines.insert({ id: stranger, plantId: plant, assetType: 'pump' })).toBe(true);
    await pub.publish(telemetryTopic(plant, stranger), JSON.stringify({ ts: t + 10, values: { a: 10 } }));
    await waitFor(
      async () => ((await count(stranger)) === 1 ? true : undefined),
      15_000,
      'the newly registered machine',
    );
    expect(await letters(plant)).toHaveLength(4);
  });
});

describe.each(ingestionModes())("ingestion's MQTT session ($name)", ({ db, mqttUrl }) => {
  let h: IngestionHarness;

  beforeAll(async () => {
    // Batches close by time only, after 5 s: what one batch holds is what the broker sent unacknowledged.
    h = await startIngestionOnTestDatabase(db, {
      mqttUrl,
      env: { INGESTION_BATCH_MAX_MS: '5000', INGESTION_BATCH_MAX_ROWS: '100000' },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('gets more QoS 1 messages than a broker in-flight window of 20 before acknowledging any', async () => {
    // MQTT 5 (Receive Maximum 65,535) with Mosquitto; aedes speaks 3.1.1 only and has no such window.
    expect(h.proc.app.get(TelemetryConsumer).protocolVersion).toBe(mqttUrl ? 5 : 4);
    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const perBatch: number[] = [];
    h.service.onCommitted((batch) => {
      const mine = batch.readings.filter((r) => r.machineId === machine).length;
      if (mine > 0) perBatch.push(mine);
    });
    const pub = await h.publisher();
    const t = Date.now() - 60_000;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t + i, values: { a: i } })),
      ),
    );
    await waitFor(() => (perBatch.reduce((a, b) => a + b, 0) >= 200 ? true : undefined), 30_000, '200 readings');
    // A 3.1.1 session on Mosquitto's default window would commit batches of at most 20.
    expect(perBatch[0]).toBeGreaterThan(20);
  });
});
