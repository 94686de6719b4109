import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import {
  InternalEvent,
  alertMessageSchema,
  alertsTopic,
  twinMessageSchema,
  twinTopic,
  type AlertMessage,
  type TwinMessage,
} from '@continuum/contracts';
import { MqttConnection } from '@continuum/messaging';
import { initTensorBackend } from '@continuum/ode';
import { createTestDatabase, MachinesRepository, type TestDatabase } from '@continuum/persistence';
import { startProcess, uniqueId, waitFor, type Infrastructure, type RunningProcess } from '@continuum/runtime';
import { AlertingModule } from '../apps/alerting/src/alerting.module';
import { DEFAULT_RULES } from '../apps/alerting/src/rules/default-rules';
import { RulesService } from '../apps/alerting/src/rules/rules.service';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhook,
} from '../apps/alerting/src/notifications/webhook.dispatcher';
import { IngestionModule } from '../apps/ingestion/src/ingestion.module';
import { Plant, SimulationRunner } from '../apps/simulator/src';
import { DEFAULT_NETWORK } from '../apps/simulator/src/plant/network';
import { TwinService } from '../apps/twin/src/service/twin.service';
import { TwinModule } from '../apps/twin/src/twin.module';

/**
 * The whole pipeline in one process on embedded defaults (PGlite+TimescaleDB in a fresh directory,
 * aedes on a free port), as apps/platform composes it: a simulated plant (driven here, with one
 * scheduled fault) -> broker -> ingestion -> twin (shipped default models) -> alerting (default
 * rules) -> MQTT, `alerts` and a signed webhook.
 */
const root = join(__dirname, '..');
const SECRET = 'pipeline-e2e-webhook-secret';
const HOUR = 3600;

/** Simulated plan: three machines (pump, motor, compressor), a fault on the pump at FAULT_AT. */
const DURATION = 4 * HOUR;
const FAULT_AT = 2.5 * HOUR;
const FAULT_MACHINE = 'pump-0001';
const FAULT_SENSOR = 'vibration_rms';
const FAULT_MAGNITUDE = 1.5; // mm/s, about 15 noise std (0.1) and 0.75 of the sensor's scale (2)
const SPEED = 600; // simulated seconds per real second

@Module({})
class PipelineModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: PipelineModule,
      imports: [
        infra.modules.config,
        IngestionModule.register(infra),
        TwinModule.register(infra),
        AlertingModule.register(infra),
      ],
    };
  }
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** Embedded (PGlite + aedes) always; PostgreSQL + MQTT_URL (Mosquitto in CI) when both are set. */
const modes: ('embedded' | 'external')[] =
  process.env.DATABASE_URL && process.env.MQTT_URL ? ['embedded', 'external'] : ['embedded'];

describe.each(modes)('simulator -> broker -> ingestion -> twin -> alerting (%s, one process)', (mode) => {
  let database: TestDatabase;
  // Unique names: an external broker is shared with other tests (topics, shared subscriptions).
  const plantId = `plant-${uniqueId()}`;
  const clientPrefix = `pipeline-${uniqueId()}`;
  let proc: RunningProcess;
  let hook: Server;
  const deliveries: Delivery[] = [];
  let sub: MqttConnection;
  const twins: { topic: string; message: TwinMessage }[] = [];
  const alerts: AlertMessage[] = [];
  const alertSeenAt: number[] = [];

  beforeAll(async () => {
    // As the twin's own integration tests do: the WASM backend before the default models load.
    await initTensorBackend({ backend: 'wasm', log: () => undefined });
    database = await createTestDatabase(mode);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
    proc = await startProcess(
      { role: 'platform', rootModule: PipelineModule.register, http: false, events: true, embedded: true },
      {
        LOG_LEVEL: 'warn',
        ...(database.config.mode === 'embedded'
          ? { DATABASE_DIR: database.config.dataDir, MQTT_PORT: '0' }
          : { DATABASE_URL: database.config.url, MQTT_URL: process.env.MQTT_URL! }),
        MQTT_CLIENT_ID: clientPrefix,
        INGESTION_INSTANCE: 'one',
        INGESTION_SHARE_GROUP: clientPrefix,
        SIMULATOR_ENABLED: 'false',
        TWIN_MODELS_DIR: join(root, 'models/default'),
        TWIN_PREDICTIONS_INTERVAL_MS: '0',
        // Forecasts are a separate path (predictive alerts); this test is about divergence.
        TWIN_FORECAST_INTERVAL_MS: '0',
        ALERTING_WEBHOOK_URLS: hookUrl,
        ALERTING_WEBHOOK_SECRET: SECRET,
        ALERTING_TICK_MS: '500',
      },
    );
    sub = await MqttConnection.open({ url: proc.infra.messaging.url, clientId: `pipeline-sub-${uniqueId()}` });
    sub.client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic.endsWith('/twin')) twins.push({ topic, message: twinMessageSchema.parse(body) });
      else alerts.push(alertMessageSchema.parse(body));
    });
    await sub.subscribe([`plants/${plantId}/machines/+/twin`, alertsTopic(plantId)], 1);
  }, 120_000);

  afterAll(async () => {
    await sub?.close();
    await proc?.close();
    await new Promise((r) => hook?.close(r));
    if (mode === 'external') {
      // Remove ingestion's persistent session from the shared broker.
      const c = await MqttConnection.open({
        url: process.env.MQTT_URL!,
        clientId: `${clientPrefix}-ingestion-one`,
        clean: true,
      }).catch(() => null);
      await c?.close();
    }
    await database?.drop();
  });

  it('tracks every machine, sees the injected fault, and alerts for the faulty machine only', async () => {
    // Rules: the default anomaly and divergence rules as shipped (the divergence rule's allowance k
    // is 2.5: single healthy machines sit up to about 2 standard deviations off on some sensors under
    // the shipped default models, and a smaller k fires on them; see docs/benchmarks.md, issue 11).
    // The forecast rule is left out: forecasts are not part of what this test checks.
    const rules = proc.app.get(RulesService);
    for (const r of DEFAULT_RULES.filter((x) => x.detector !== 'forecast')) {
      const { id: _id, ...rule } = r;
      await rules.create(rule);
    }

    const plant = new Plant({
      plantId,
      machines: 3,
      protocol: 'json',
      seed: 7,
      startMs: Date.now() - 24 * HOUR * 1000,
      // No outages or duplicates: the twin sees a steady stream; delays (out of order) and drops stay.
      network: { ...DEFAULT_NETWORK, duplicateRate: 0, outagesPerDay: 0 },
      faults: {
        scheduled: [
          {
            machine: FAULT_MACHINE,
            sensor: FAULT_SENSOR,
            kind: 'step',
            start: FAULT_AT,
            end: Infinity,
            magnitude: FAULT_MAGNITUDE,
          },
        ],
        randomPerDay: 0,
        meanDuration: HOUR,
      },
    });
    const machines = plant.machines;
    expect(machines.map((m) => m.machineId)).toEqual(['pump-0001', 'motor-0001', 'compressor-0001']);
    const repo = new MachinesRepository(proc.infra.database.dataSource);
    for (const m of machines)
      await repo.upsert({ id: m.machineId, plantId: m.plantId, assetType: m.assetType, sensors: m.sensors });
    const faultMs = plant.options.startMs + FAULT_AT * 1000;
    // When each alert message arrived: how far the faulty machine's twin had got by then.
    sub.client.on('message', (topic) => {
      if (topic === alertsTopic(plantId))
        alertSeenAt.push(
          Math.max(...twins.filter((t) => t.message.machineId === FAULT_MACHINE).map((t) => t.message.ts)),
        );
    });

    const runner = new SimulationRunner(plant, {
      url: proc.infra.messaging.url,
      clientIdPrefix: 'pipeline-sim',
      qos: 1,
      speed: SPEED,
      tickMs: 100,
      catchUp: false,
      duration: DURATION,
    });
    try {
      await runner.start();
      await runner.finished();
    } finally {
      await runner.stop();
    }
    const published = plant.stats.readings;
    const db = proc.infra.database.dataSource;
    const ids = machines.map((m) => m.machineId);
    await waitFor(
      async () => {
        const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM readings WHERE machine_id = ANY($1)`, [ids]);
        return n >= published ? n : undefined;
      },
      60_000,
      'every reading stored',
    );
    const last = new Map<string, number>(
      (
        await db.query(
          `SELECT machine_id, (extract(epoch FROM max(time)) * 1000)::float8 AS t FROM readings WHERE machine_id = ANY($1) GROUP BY machine_id`,
          [ids],
        )
      ).map((r: { machine_id: string; t: number }) => [r.machine_id, r.t]),
    );
    await waitFor(
      () =>
        machines.every((m) =>
          twins.some((t) => t.message.machineId === m.machineId && t.message.ts >= last.get(m.machineId)!),
        )
          ? true
          : undefined,
      60_000,
      'the twin to catch up with every machine',
    );
    await new Promise((r) => setTimeout(r, 1000)); // last alerts and webhook deliveries

    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const report: string[] = [];
    for (const m of machines) {
      // Twin messages over MQTT on the machine's own topic, for every machine.
      const mine = twins.filter((t) => t.message.machineId === m.machineId);
      expect(mine.length).toBeGreaterThan(100);
      for (const t of mine) expect(t.topic).toBe(twinTopic(plantId, m.machineId));
      const pre = mine.map((t) => t.message).filter((x) => x.ts < faultMs);
      // Prediction error |reading - predicted mean| = |z| * std per sensor: its median over each
      // sensor's first 3 readings (from the twin's zero state) against its median over the hour
      // before the fault, as a ratio; averaged over sensors it must exceed 1 (error falls).
      const ratios = m.sensors.map((s) => {
        const err = pre
          .filter((x) => s.name in x.residuals)
          .map((x) => ({ ts: x.ts, e: Math.abs(x.residuals[s.name] * x.prediction[s.name].std) }));
        return (
          med(err.slice(0, 3).map((x) => x.e)) / med(err.filter((x) => x.ts > faultMs - HOUR * 1000).map((x) => x.e))
        );
      });
      report.push(
        `${m.machineId}: ${mine.length} twin messages, early/late error ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
      );
      expect(mean(ratios)).toBeGreaterThan(1);
    }

    // The fault: the faulty sensor's residuals and the anomaly score jump after it.
    const pump = twins.map((t) => t.message).filter((x) => x.machineId === FAULT_MACHINE);
    const zOf = (xs: TwinMessage[]) =>
      xs.filter((x) => FAULT_SENSOR in x.residuals).map((x) => Math.abs(x.residuals[FAULT_SENSOR]));
    const warm = pump.filter((x) => x.ts < faultMs && x.ts > faultMs - HOUR * 1000);
    const after = pump.filter((x) => x.ts >= faultMs + 5 * 60_000 && x.ts < faultMs + HOUR * 1000);
    const zBefore = mean(zOf(warm));
    const zAfter = mean(zOf(after));
    const scoreBefore = mean(warm.map((x) => x.anomalyScore));
    const scoreAfter = mean(after.map((x) => x.anomalyScore));
    report.push(
      `${FAULT_SENSOR} mean |z| ${zBefore.toFixed(2)} -> ${zAfter.toFixed(2)}; mean anomaly score ${scoreBefore.toFixed(2)} -> ${scoreAfter.toFixed(2)}`,
    );
    console.log(report.join('\n'));
    expect(zBefore).toBeLessThan(2);
    expect(zAfter).toBeGreaterThan(5 * zBefore);
    expect(zAfter).toBeGreaterThan(4);
    expect(scoreAfter).toBeGreaterThan(3 * scoreBefore);

    // Alerts: stored, published on the plant's alert topic and delivered signed to the webhook,
    // for the faulty machine only, and only once its twin had seen the fault.
    // Scoped to this test's plant: on the shared CI broker, other test files publish readings for
    // their own plants, and this platform ingests (and may alert on) every plant it hears.
    const rows: { machine_id: string; rule_id: string; details: { sensor?: string } }[] = await db.query(
      `SELECT machine_id, rule_id, details FROM alerts WHERE plant_id = $1 ORDER BY raised_at`,
      [plantId],
    );
    report.push(`alerts: ${rows.map((r) => `${r.machine_id} ${r.rule_id} ${r.details.sensor ?? ''}`).join('; ')}`);
    console.log(report[report.length - 1]);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.machine_id))).toEqual(new Set([FAULT_MACHINE]));
    for (const r of rows.filter((x) => x.details.sensor)) expect(r.details.sensor).toBe(FAULT_SENSOR);
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.machineId))).toEqual(new Set([FAULT_MACHINE]));
    expect(Math.min(...alertSeenAt)).toBeGreaterThanOrEqual(faultMs);
    // The webhook hears every plant's alerts (other test files' plants too, on the shared CI broker):
    // every delivery is signed, and this plant's are about the faulty machine only.
    const ours = () =>
      deliveries.filter((d) => (JSON.parse(d.body) as { alert?: { plantId?: string } }).alert?.plantId === plantId);
    await waitFor(() => (ours().length > 0 ? true : undefined), 10_000, "a webhook delivery for this test's plant");
    for (const d of deliveries) {
      const timestamp = String(d.headers[TIMESTAMP_HEADER]);
      expect(verifyWebhook(SECRET, timestamp, d.body, String(d.headers[SIGNATURE_HEADER]))).toBe(true);
      expect(verifyWebhook('not-the-secret-at-all', timestamp, d.body, String(d.headers[SIGNATURE_HEADER]))).toBe(
        false,
      );
      expect(JSON.parse(d.body)).toMatchObject({ event: 'alert.changed' });
    }
    for (const d of ours())
      expect(JSON.parse(d.body)).toMatchObject({
        event: 'alert.changed',
        alert: { machineId: FAULT_MACHINE, plantId },
      });

    // A reset announced on the bus (as the api's POST /twin/reset does) drops the machine's twin.
    const twin = proc.app.get(TwinService);
    expect(Number.isNaN(twin.processor.timeOf(FAULT_MACHINE))).toBe(false);
    await sub.publish(InternalEvent.TwinReset, JSON.stringify({ machineId: FAULT_MACHINE, at: Date.now() }));
    await waitFor(() => (Number.isNaN(twin.processor.timeOf(FAULT_MACHINE)) ? true : undefined), 10_000, 'the reset');
    for (const m of machines.filter((x) => x.machineId !== FAULT_MACHINE))
      expect(Number.isNaN(twin.processor.timeOf(m.machineId))).toBe(false);
  }, 150_000);
});
