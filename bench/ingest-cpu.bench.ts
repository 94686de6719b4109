/**
 * bench/ingest-cpu.bench.ts — CPU time per message of each part of the ingestion path
 * (issue 7), measured in two phases so that each process's share can be read from /proc:
 *
 * 1. publish: ingestion's persistent session exists but ingestion is stopped; BUDGET_PUBLISHERS
 *    worker threads (the publishers of bench:ingest: 100 machines, 2-10 sensors per message,
 *    QoS 1) send BUDGET_MESSAGES messages, which Mosquitto (deploy/mosquitto/mosquitto.conf,
 *    private port) queues for the session. CPU of this process (the publishers) and of Mosquitto.
 * 2. drain: ingestion starts in this process and stores the queue. CPU of this process
 *    (ingestion), of Mosquitto and of the PostgreSQL backends of the bench's database.
 *
 * Prints microseconds of CPU per message for each, their sum and what that sum allows on two
 * otherwise idle cores (2 CPU-seconds per second / CPU per message): an upper bound for
 * bench:ingest, which runs all of them at once. CPU per message changes far less with other
 * jobs on the machine than rates do (contention still inflates it somewhat).
 *
 * Run: node -r @swc-node/register bench/ingest-cpu.bench.ts
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BUDGET_MESSAGES (60000), BUDGET_PUBLISHERS (3), BUDGET_ENV (JSON of extra INGESTION_* settings).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createTestDatabase } from '@continuum/persistence';
import { startIngestion } from '../apps/ingestion/src/testing/ingestion-harness';
import { IngestionService } from '../apps/ingestion/src/pipeline/ingestion.service';

// Counts committed rows from the first batch on: the broker replays the queue right after
// CONNACK, before startIngestion resolves and onCommitted could be called.
let storedRows = 0;
let onStored: () => void = () => undefined;
const proto = IngestionService.prototype as unknown as { committed: (...a: unknown[]) => void };
const orig = proto.committed;
proto.committed = function (this: unknown, ...a: unknown[]) {
  storedRows += (a[1] as { readings: unknown[] }).readings.length;
  onStored();
  return orig.apply(this, a);
};

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.BUDGET_MESSAGES ?? 60000);
const PUBS = Number(process.env.BUDGET_PUBLISHERS ?? 3);
const HZ = 100;

const PUBLISHER_JS = `
const { workerData, parentPort } = require('node:worker_threads');
const mqtt = require('mqtt');
const { url, index, publishers, machines, count, base } = workerData;
const client = mqtt.connect(url, { clientId: 'budget-pub-' + index + '-' + Date.now(), clean: true });
const mine = [];
for (let m = index; m < machines; m += publishers) mine.push({ id: 'bench-m' + m, sensors: 2 + (m % 9), t: 0 });
let inflight = 0, sent = 0, acked = 0, readings = 0, i = 0;
function pump() {
  while (sent < count && inflight < 500) {
    const m = mine[i++ % mine.length];
    const values = { s0: Date.now() };
    for (let k = 1; k < m.sensors; k++) values['s' + k] = Math.random() * 100;
    const body = JSON.stringify({ ts: base + m.t++, values });
    inflight++; sent++;
    const n = m.sensors;
    client.publish('plants/bench/machines/' + m.id + '/telemetry', body, { qos: 1 }, (err) => {
      inflight--;
      if (!err) { acked++; readings += n; }
      if (sent >= count && inflight === 0) finish(); else setImmediate(pump);
    });
  }
}
function finish() { client.end(false, () => parentPort.postMessage({ sent, acked, readings })); }
client.on('connect', () => { parentPort.postMessage('ready'); });
parentPort.on('message', (m) => { if (m === 'go') pump(); });
`;

function cpuOf(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()!.trim().split(/\s+/);
  return (Number(st[11]) + Number(st[12])) / HZ;
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function main() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'budget-mosquitto-'));
  const conf = readFileSync(join(__dirname, '../deploy/mosquitto/mosquitto.conf'), 'utf8')
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence .*$/m, 'persistence false')
    .replace(/^persistence_location .*$/m, '');
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  const mosq = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = netConnect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `mqtt://127.0.0.1:${port}`;
  const database = await createTestDatabase('external');
  const env = {
    LOG_LEVEL: 'error',
    INGESTION_SHARED_SUBSCRIPTION: 'false',
    MQTT_CLIENT_ID: 'budget',
    INGESTION_INSTANCE: 'x' + process.pid,
    ...JSON.parse(process.env.BUDGET_ENV ?? '{}'),
  };
  try {
    // Session: connect once, leave (persistent session stays, queues).
    let h = await startIngestion(database.config, { mqttUrl: url, env });
    await h.proc.close();
    console.log(
      `load ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );

    // Publish phase.
    const base = Date.now() - 3_600_000;
    const workers = Array.from(
      { length: PUBS },
      (_, index) =>
        new Worker(PUBLISHER_JS, {
          eval: true,
          workerData: { url, index, publishers: PUBS, machines: 100, count: Math.ceil(N / PUBS), base },
        }),
    );
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const results = workers.map((w) => new Promise<{ acked: number; readings: number }>((r) => w.once('message', r)));
    let c0 = selfCpu(),
      m0 = cpuOf(mosq.pid!),
      t0 = performance.now();
    for (const w of workers) w.postMessage('go');
    const tot = (await Promise.all(results)).reduce((a, b) => ({
      acked: a.acked + b.acked,
      readings: a.readings + b.readings,
    }));
    let dt = (performance.now() - t0) / 1000;
    const pub = { s: dt, self: selfCpu() - c0, mosq: cpuOf(mosq.pid!) - m0 };
    await Promise.all(workers.map((w) => w.terminate()));
    const us = (x: number) => ((x * 1e6) / tot.acked).toFixed(1).padStart(6);
    console.log(
      `publish: ${tot.acked} messages, ${tot.readings} readings in ${dt.toFixed(2)} s = ${(tot.acked / dt).toFixed(0)} msg/s; CPU us/message: publishers ${us(pub.self)}, mosquitto ${us(pub.mosq)}`,
    );

    // Drain phase: ingestion alone takes the queue.
    c0 = selfCpu();
    m0 = cpuOf(mosq.pid!);
    t0 = performance.now();
    storedRows = 0;
    const done = new Promise<void>((resolve) => (onStored = () => storedRows >= tot.readings && resolve()));
    h = await startIngestion(database.config, { mqttUrl: url, env });
    await done;
    const stored = storedRows;
    dt = (performance.now() - t0) / 1000;
    const dbName = new URL((database.config as { url: string }).url).pathname.slice(1);
    const pids = await h.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [dbName]);
    const mine = pids.reduce((sum, { pid }) => sum + cpuOf(pid), 0);
    const dr = { self: selfCpu() - c0, mosq: cpuOf(mosq.pid!) - m0, pg: mine };
    console.log(
      `drain:   ${stored} readings in ${dt.toFixed(2)} s = ${(stored / dt).toFixed(0)} readings/s (${(tot.acked / dt).toFixed(0)} msg/s); CPU us/message: ingestion ${us(dr.self)}, mosquitto ${us(dr.mosq)}, postgres ${us(dr.pg)}; cores used: ingestion ${(dr.self / dt).toFixed(2)} mosquitto ${(dr.mosq / dt).toFixed(2)} postgres ${(dr.pg / dt).toFixed(2)}`,
    );
    const perMsg = pub.self + pub.mosq + dr.self + dr.mosq + dr.pg;
    console.log(
      `total CPU per message ${us(perMsg)} us => at most ${(2 / (perMsg / tot.acked)).toFixed(0)} msg/s = ${(((2 / (perMsg / tot.acked)) * tot.readings) / tot.acked).toFixed(0)} readings/s on 2 idle cores`,
    );
    console.log(
      `load ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    await h.close();
  } finally {
    mosq.kill('SIGTERM');
    await database.drop();
  }
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
