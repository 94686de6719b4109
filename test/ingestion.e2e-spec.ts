import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { telemetryTopic } from '@continuum/contracts';
import { EmbeddedBroker, MqttConnection } from '@continuum/messaging';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { waitFor, uniqueId } from '@continuum/runtime';

/**
 * Crash test (issue 7): `dist/apps/ingestion/src/main.js` (npm run start:ingestion) as a child
 * process, killed with SIGKILL twice while a publisher sends QoS 1 telemetry — once mid-stream,
 * once while the restarted process replays the backlog its persistent session queued in the
 * broker — and started again. Every message the broker acknowledged (PUBACK to the publisher) is
 * stored, each reading once.
 *
 * Needs PostgreSQL (DATABASE_URL): ingestion runs alone only in external mode, and PGlite would
 * lose its last writes to SIGKILL anyway. Brokers: aedes in this test process (an embedded broker
 * dies with its process, so ingestion must be the separate one), and MQTT_URL (Mosquitto with
 * deploy/mosquitto/mosquitto.conf in CI) with a plain and with a `$share` subscription.
 * MQTT_URL must not drop queued QoS 1 messages (deploy/mosquitto/mosquitto.conf, as CI runs it on
 * :1884): a Mosquitto with Debian's defaults (max_queued_messages 1000) drops what queues up while
 * ingestion is down, and this test then fails, as it should.
 */
const root = join(__dirname, '..');
const mainJs = join(root, 'dist/apps/ingestion/src/main.js');

interface Case {
  broker: 'aedes' | 'MQTT_URL';
  shared: boolean;
}
const cases: Case[] = [{ broker: 'aedes', shared: false }];
if (process.env.MQTT_URL) cases.push({ broker: 'MQTT_URL', shared: false }, { broker: 'MQTT_URL', shared: true });
const describeWithDb = process.env.DATABASE_URL ? describe : describe.skip;

const MESSAGES = 6000;

/** An ingestion child process; any probe fails at once (with its output) if it exited unasked. */
class IngestionChild {
  readonly child: ChildProcess;
  output = '';
  private exit: string | null = null;
  private killed = false;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [mainJs], {
      cwd: root,
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.child.on('exit', (code, signal) => (this.exit = `code ${code}, signal ${signal}`));
  }

  /** Throws if the process exited without being told to. */
  check(): void {
    if (this.exit !== null && !this.killed)
      throw new Error(`ingestion exited unexpectedly (${this.exit}):\n${this.output.slice(-4000)}`);
  }

  async started(): Promise<void> {
    await waitFor(
      () => {
        this.check();
        return /ingestion started/.test(this.output) ? true : undefined;
      },
      60_000,
      'ingestion to start',
    );
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.killed = true;
    if (this.exit !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

beforeAll(() => {
  if (!process.env.DATABASE_URL) return;
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-needed'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}, 120_000);

describeWithDb.each(cases)('ingestion process killed with SIGKILL ($broker broker, shared $shared)', (c) => {
  let database: TestDatabase;
  let broker: EmbeddedBroker | null = null;
  let url: string;
  let db: Client;
  const children: IngestionChild[] = [];
  const prefix = `crash-${uniqueId()}`;

  beforeAll(async () => {
    database = await createTestDatabase('external');
    db = new Client({ connectionString: (database.config as { url: string }).url });
    await db.connect();
    if (c.broker === 'aedes') {
      broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
      url = broker.url;
    } else {
      url = process.env.MQTT_URL!;
    }
  });
  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    // Remove the persistent session (and its subscriptions) from the broker.
    const cleaner = await MqttConnection.open({ url, clientId: `${prefix}-ingestion-one`, clean: true }).catch(
      () => null,
    );
    await cleaner?.close();
    await db.end().catch(() => undefined);
    await broker?.close();
    await database.drop();
  });

  it('loses nothing acknowledged and stores nothing twice', async () => {
    const env = {
      DATABASE_URL: (database.config as { url: string }).url,
      MQTT_URL: url,
      MQTT_CLIENT_ID: prefix,
      INGESTION_INSTANCE: 'one',
      INGESTION_SHARE_GROUP: prefix,
      INGESTION_SHARED_SUBSCRIPTION: String(c.shared),
      INGESTION_BATCH_MAX_ROWS: '500',
    };
    const start = async () => {
      const child = new IngestionChild(env);
      children.push(child);
      await child.started();
      return child;
    };
    const plant = `p${uniqueId()}`;
    const machine = `m${uniqueId()}`;
    const count = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM readings WHERE machine_id = $1`, [machine])).rows[0].n as number;
    /** Waits until at least `rows` readings are stored, failing at once if `child` died. */
    const stored = (child: IngestionChild, rows: number, timeoutMs: number, what: string) =>
      waitFor(
        async () => {
          child.check();
          const n = await count();
          return n >= rows ? n : undefined;
        },
        timeoutMs,
        what,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message} (${await count()} stored); ingestion's output:\n${child.output.slice(-4000)}`);
      });

    let child = await start();
    const pub = await MqttConnection.open({ url, clientId: `${prefix}-pub` });
    try {
      const t0 = Date.now() - 3_600_000;
      const acked = new Set<number>();
      const publishing = (async () => {
        const window: Promise<void>[] = [];
        for (let i = 0; i < MESSAGES; i++) {
          const payload = JSON.stringify({ ts: t0 + i, values: { a: i, b: -i } });
          window.push(pub.publish(telemetryTopic(plant, machine), payload).then(() => void acked.add(i)));
          if (window.length >= 200) await Promise.all(window.splice(0));
        }
        await Promise.all(window);
      })();

      // 1. Killed mid-stream, with batches committed and others in flight.
      await stored(child, 1000, 30_000, 'the first readings');
      await child.kill('SIGKILL');
      const atFirstKill = await count();
      expect(atFirstKill).toBeLessThan(MESSAGES * 2);
      await new Promise((r) => setTimeout(r, 300)); // messages keep arriving while it is down

      // 2. Restarted: the broker replays the session's backlog right after CONNACK. Killed again
      // while it drains that backlog.
      child = await start();
      const atSecondKill = await stored(child, atFirstKill + 2000, 60_000, 'the backlog to drain');
      await child.kill('SIGKILL');

      // 3. Restarted once more: everything acknowledged to the publisher arrives.
      child = await start();
      await publishing;
      expect(acked.size).toBe(MESSAGES);
      await stored(child, MESSAGES * 2, 60_000, 'every acknowledged reading');
      await new Promise((r) => setTimeout(r, 300)); // redeliveries still in flight would show now
      child.check();

      const { rows } = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT time)::int AS times, sum(value)::float8 AS s,
                count(*) FILTER (WHERE sensor = 'a' AND value <> extract(epoch FROM time) * 1000 - $2)::int AS wrong
         FROM readings WHERE machine_id = $1`,
        [machine, t0],
      );
      expect(rows[0]).toEqual({ n: MESSAGES * 2, times: MESSAGES, s: 0, wrong: 0 });
      // This test's own messages only: on the shared broker (MQTT_URL) the instance also receives other
      // test files' telemetry, some of it malformed on purpose, and dead-letters that (a CI run met one).
      const dead = await db.query(`SELECT source, reason FROM dead_letters WHERE source LIKE '%/' || $1 || '/%'`, [
        machine,
      ]);
      expect(dead.rows).toEqual([]);
      expect(atSecondKill).toBeGreaterThan(atFirstKill);

      await child.kill('SIGTERM');
    } finally {
      await pub.close();
    }
  }, 150_000);
});
