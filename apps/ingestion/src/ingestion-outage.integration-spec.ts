import { createServer, connect, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { telemetryTopic } from '@continuum/contracts';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { IngestionRepository } from './storage/ingestion.repository';
import {
  ingestionModes,
  retainedHeap,
  startIngestion,
  unique,
  waitFor,
  type IngestionHarness,
} from './testing/ingestion-harness';

/** A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, then come back. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server?.close(() => r()) ?? r());
  }
}

/**
 * Outage and overload: the database goes away while QoS 1 telemetry keeps arriving (embedded:
 * the writer fails; PostgreSQL: a real connection cut through a TCP proxy). Ingestion must stop
 * reading (memory bounded by INGESTION_QUEUE_MAX_ROWS), report degraded, retry, and afterwards
 * have stored every message exactly once. With an external broker this also proves that the
 * broker's queue for our persistent session drops nothing (Mosquitto's default would drop
 * beyond 1000 queued messages; deploy/mosquitto/mosquitto.conf lifts the limit).
 */
describe.each(ingestionModes())('ingestion outage ($name)', ({ db, mqttUrl }) => {
  const QUEUE_MAX = 1000;
  const MESSAGES = 4000;
  const SENSORS = 3;
  let database: TestDatabase;
  let proxy: CuttableProxy | null = null;
  let h: IngestionHarness;
  let down = false;
  /** Reads the database directly (not through the proxy that is cut). */
  let direct: Client | null = null;

  beforeAll(async () => {
    database = await createTestDatabase(db);
    let config = database.config;
    if (config.mode === 'external') {
      const url = new URL(config.url);
      proxy = new CuttableProxy(url.hostname, Number(url.port || 5432));
      await proxy.start();
      url.host = `127.0.0.1:${proxy.port}`;
      direct = new Client({ connectionString: config.url });
      await direct.connect();
      config = { ...config, url: url.toString() };
    }
    h = await startIngestion(config, {
      mqttUrl,
      env: {
        INGESTION_QUEUE_MAX_ROWS: String(QUEUE_MAX),
        INGESTION_BATCH_MAX_ROWS: '300',
        INGESTION_RETRY_MIN_MS: '50',
        INGESTION_RETRY_MAX_MS: '400',
        LOG_LEVEL: 'error',
      },
    });
    if (!proxy) {
      const repo = h.proc.app.get(IngestionRepository);
      const write = repo.write.bind(repo);
      jest.spyOn(repo, 'write').mockImplementation(async (batch) => {
        if (down) throw new Error('simulated outage: connection refused');
        return write(batch);
      });
    }
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await direct?.end();
    await proxy?.cut();
    await database?.drop();
  });

  it(`stores ${MESSAGES} QoS 1 messages sent during an outage exactly once, with at most ${QUEUE_MAX} readings held in memory`, async () => {
    const plant = `p${unique()}`;
    const machines = Array.from({ length: 10 }, (_, i) => `m${i}-${unique()}`);
    const pubs = [await h.publisher(), await h.publisher()];
    const t0 = Date.now() - 3_600_000;
    await pubs[0].publish(telemetryTopic(plant, machines[0]), JSON.stringify({ ts: t0 - 1, values: { warm: 1 } }));
    const sql = `SELECT count(*)::int AS n, coalesce(sum(value), 0)::float8 AS s FROM readings WHERE machine_id = ANY($1)`;
    const stored = async (): Promise<{ n: number; s: number }> =>
      direct
        ? (await direct.query(sql, [machines])).rows[0]
        : (await h.query<{ n: number; s: number }>(sql, [machines]))[0];
    await waitFor(async () => ((await stored()).n === 1 ? true : undefined), 10_000, 'the warm-up reading');

    // The database goes away.
    if (proxy) await proxy.cut();
    else down = true;

    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, h.service.queued)), 5);
    const heapBefore = retainedHeap();
    const sent: Promise<void>[] = [];
    let expectedSum = 1;
    for (let i = 0; i < MESSAGES; i++) {
      const values: Record<string, number> = {};
      for (let k = 0; k < SENSORS; k++) values[`s${k}`] = i * 10 + k;
      expectedSum += SENSORS * i * 10 + (SENSORS * (SENSORS - 1)) / 2;
      sent.push(
        pubs[i % 2].publish(
          telemetryTopic(plant, machines[i % machines.length]),
          JSON.stringify({ ts: t0 + i, values }),
        ),
      );
    }
    await waitFor(() => h.service.degraded ?? undefined, 20_000, 'ingestion to report degraded');
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.service.degraded).not.toBeNull();
    expect((await stored()).n).toBe(1);

    // The database returns.
    if (proxy) await proxy.start();
    else down = false;

    await Promise.all(sent);
    const final = await waitFor(
      async () => {
        const s = await stored();
        return s.n >= 1 + MESSAGES * SENSORS ? s : undefined;
      },
      45_000,
      'every reading after the outage',
    );
    clearInterval(sampler);
    await h.service.flush();
    expect(final.n).toBe(1 + MESSAGES * SENSORS);
    expect((await stored()).n).toBe(1 + MESSAGES * SENSORS);
    expect(final.s).toBe(expectedSum);
    expect(maxQueued).toBeLessThanOrEqual(QUEUE_MAX + SENSORS);
    expect(h.service.degraded).toBeNull();
    // Nothing held on to: the retained heap (after a full collection) did not grow with the backlog
    // (4000 messages stayed in the broker). Measured 0.4-4.8 MiB in both modes; without the forced
    // collection the raw heapUsed difference swung up to 70 MiB with the collector's timing.
    const grown = retainedHeap() - heapBefore;
    console.log(`retained heap grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  }, 90_000);
});
