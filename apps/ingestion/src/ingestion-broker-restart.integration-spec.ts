import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { telemetryTopic } from '@continuum/contracts';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { TelemetryConsumer } from './mqtt/telemetry.consumer';
import { startIngestion, unique, waitFor, type IngestionHarness } from './testing/ingestion-harness';

/**
 * Ingestion keeps receiving after Mosquitto restarts (SIGTERM, persistence file kept): the broker
 * resumes the persistent session and ingestion subscribes again. A private Mosquitto
 * (deploy/mosquitto/mosquitto.conf, persistence in a temporary directory) in the external mode,
 * where Mosquitto is part of the test environment (CI).
 *
 * Mosquitto 2.0 saves a session's ordinary subscriptions in its persistence file but not its shared
 * (`$share/...`) ones: after its restart it resumes ingestion's session ("session present") without
 * the subscription, and device messages have no subscriber. Ingestion must send SUBSCRIBE again
 * itself (mqtt.js does so only when the session is gone, and skips a filter it already holds). The
 * test checks that the broker really saved and resumed the session; without that (a persistence
 * directory Mosquitto cannot write, as it runs as its own user) the case is not exercised at all.
 */
const external = process.env.DATABASE_URL && process.env.MQTT_URL ? [{ name: 'Mosquitto + PostgreSQL' }] : [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

class PrivateMosquitto {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'ingestion-mosquitto-'));

  constructor(readonly port: number) {
    chmodSync(this.dir, 0o777); // Mosquitto drops root privileges to its own user: it must write here
    const conf = readFileSync(join(__dirname, '../../../deploy/mosquitto/mosquitto.conf'), 'utf8')
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replace(/^persistence_location .*$/m, `persistence_location ${this.dir}/`)
      .replace(/^log_dest stdout$/m, 'log_dest none');
    writeFileSync(join(this.dir, 'mosquitto.conf'), conf);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          const s = netConnect(this.port, '127.0.0.1');
          s.on('connect', () => (s.destroy(), resolve(true)));
          s.on('error', () => resolve(undefined));
        }),
      15_000,
      'Mosquitto to listen',
    );
  }

  /** SIGTERM: Mosquitto writes its persistence file (sessions, subscriptions, queues) and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.each(external)('ingestion across a broker restart ($name)', () => {
  let database: TestDatabase;
  let broker: PrivateMosquitto;
  let h: IngestionHarness;

  beforeAll(async () => {
    broker = new PrivateMosquitto(await freePort());
    await broker.start();
    database = await createTestDatabase('external');
    h = await startIngestion(database.config, {
      mqttUrl: broker.url,
      env: { INGESTION_SHARED_SUBSCRIPTION: 'true' },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await broker?.remove();
    await database?.drop();
  });

  const count = async (machineId: string) =>
    (await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [machineId]))[0].n;

  it('subscribes again after Mosquitto restarts with its persistent session, and stores what follows', async () => {
    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const t = Date.now() - 60_000;
    const pub = await h.publisher();
    await pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t, values: { a: 1 } }));
    await waitFor(async () => ((await count(machine)) === 1 ? true : undefined), 15_000, 'the first reading');

    const consumer = h.proc.app.get(TelemetryConsumer);
    expect(consumer.sessionPresent).toBe(false); // a new session before the restart
    expect(consumer.subscribed).toBe(true);
    await broker.stop();
    expect(existsSync(join(broker.dir, 'mosquitto.db'))).toBe(true); // the session was saved
    await waitFor(() => (consumer.connected ? undefined : true), 10_000, 'ingestion to see the broker go');
    expect(consumer.subscribed).toBe(false);
    await broker.start();
    await waitFor(
      () => (consumer.connected && consumer.sessionPresent ? true : undefined),
      30_000,
      'ingestion to reconnect to its resumed session',
    );
    await waitFor(() => (consumer.subscribed ? true : undefined), 10_000, 'the shared subscription granted again');
    // The publisher reconnects too and sends its QoS 1 messages once it has.
    await pub.publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t + 1, values: { a: 2 } }));
    await waitFor(
      async () => ((await count(machine)) === 2 ? true : undefined),
      30_000,
      'the reading sent after the restart',
    );
  }, 120_000);
});
