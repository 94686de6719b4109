/**
 * npm run bench:ingest — MQTT telemetry -> ingestion -> PostgreSQL, end to end, with zero loss.
 *
 * Publishers (worker threads) send JSON telemetry for 100 machines, 2-10 sensors per message, at
 * full speed with QoS 1 to Mosquitto (started with deploy/mosquitto/mosquitto.conf on a free port
 * unless BENCH_MQTT_URL is given) and to the embedded aedes broker; ingestion runs in this
 * process. Prints sustained readings/s stored, publish -> commit latency p50/p99 and rows lost,
 * and, measured in the same run against the same table, the bare COPY rate of the same kind of
 * rows and the write stage alone (rows handed to the writer in memory), with the ratios.
 *
 * Before/after in the same run (issue 7's optimisation), each printed as a ratio:
 * - decode stage alone: the same messages through the zod schema and through the hand-written
 *   check (telemetry-fast-path.ts);
 * - write stage alone: `ReadingsRepository.insertMany` (ISO strings, pg's array serialisation),
 *   `IngestionRepository.insertReadings` with `writeMethod = 'insert'` (unnest of array literals,
 *   ON CONFLICT DO NOTHING) and as shipped (binary COPY in a savepoint, falling back to that insert);
 * - end to end through Mosquitto: `mosquitto-3.1.1+zod` (an MQTT 3.1.1 session, so Mosquitto's
 *   20-message in-flight window, and zod validation), `mosquitto-insert` (as shipped but every
 *   batch through the ON CONFLICT insert) and `mosquitto` as shipped (MQTT 5 with Receive Maximum
 *   65,535, fast validation, binary COPY).
 * CPU per message of each component (publishers, Mosquitto, ingestion, PostgreSQL), which a busy
 * machine distorts far less than rates: bench/ingest-cpu.bench.ts.
 * The load average is printed at the start and at the end: on a shared machine compare ratios only.
 *
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION_S (30), BENCH_PUBLISHERS (3), BENCH_BROKERS (mosquitto-3.1.1+zod,mosquitto-insert,mosquitto,embedded),
 * BENCH_MQTT_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { performance as perf } from 'node:perf_hooks';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Database, ReadingsRepository, createTestDatabase } from '@continuum/persistence';
import type { Reading } from '@continuum/persistence';
import { MessageDecoder } from '../apps/ingestion/src/decoding/message.decoder';
import { IngestionRepository } from '../apps/ingestion/src/storage/ingestion.repository';
import { startIngestion } from '../apps/ingestion/src/testing/ingestion-harness';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.DATABASE_URL = DATABASE_URL;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 30);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 3);
const BROKERS = (process.env.BENCH_BROKERS ?? 'mosquitto-3.1.1+zod,mosquitto-insert,mosquitto,embedded').split(',');
const MACHINES = 100;
const STAGE_ROWS = 400_000;

const PUBLISHER_JS = `
const { workerData, parentPort } = require('node:worker_threads');
const mqtt = require('mqtt');
const { url, index, publishers, machines, durationMs, base } = workerData;
const client = mqtt.connect(url, { clientId: 'bench-pub-' + index + '-' + Date.now(), clean: true });
const mine = [];
for (let m = index; m < machines; m += publishers) mine.push({ id: 'bench-m' + m, sensors: 2 + (m % 9), t: 0 });
let inflight = 0, sent = 0, acked = 0, readings = 0, stop = false, i = 0;
function pump() {
  while (!stop && inflight < 500) {
    const m = mine[i++ % mine.length];
    const values = { s0: Date.now() };
    for (let k = 1; k < m.sensors; k++) values['s' + k] = Math.random() * 100;
    const body = JSON.stringify({ ts: base + m.t++, values });
    inflight++; sent++;
    const n = m.sensors;
    client.publish('plants/bench/machines/' + m.id + '/telemetry', body, { qos: 1 }, (err) => {
      inflight--;
      if (!err) { acked++; readings += n; }
      if (stop && inflight === 0) finish(); else setImmediate(pump);
    });
  }
}
function finish() { client.end(false, () => parentPort.postMessage({ sent, acked, readings })); }
client.on('connect', () => { parentPort.postMessage('ready'); });
parentPort.on('message', (m) => { if (m === 'go') { pump(); setTimeout(() => { stop = true; if (inflight === 0) finish(); }, durationMs); } });
`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startMosquitto(): Promise<{ url: string; child: ChildProcess | null }> {
  if (process.env.BENCH_MQTT_URL) return { url: process.env.BENCH_MQTT_URL, child: null };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
  const conf = readFileSync(join(__dirname, '..', 'deploy/mosquitto/mosquitto.conf'), 'utf8')
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence .*$/m, 'persistence false')
    .replace(/^persistence_location .*$/m, '');
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = netConnect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `mqtt://127.0.0.1:${port}`, child };
}

const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function syntheticRows(n: number, prefix: string): Reading[] {
  const rows: Reading[] = new Array(n);
  const base = Date.now() - 7_200_000;
  for (let i = 0; i < n; i++) {
    const m = i % MACHINES;
    rows[i] = {
      machineId: `${prefix}-m${m}`,
      sensor: `s${((i / MACHINES) % 6) | 0}`,
      time: base + ((i / 600) | 0),
      value: Math.random() * 100,
    };
  }
  return rows;
}

/** Bare COPY of rows into readings (no conflict handling): the limit of what the database takes. */
async function copyRate(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rows = syntheticRows(STAGE_ROWS, 'copy');
    const started = performance.now();
    const CHUNK = 50_000;
    for (let off = 0; off < rows.length; off += CHUNK) {
      const lines: string[] = [];
      for (let i = off; i < Math.min(off + CHUNK, rows.length); i++) {
        const r = rows[i];
        lines.push(`${new Date(r.time).toISOString()}\t${r.machineId}\t${r.sensor}\t${r.value}\n`);
      }
      await pipeline(
        Readable.from([lines.join('')]),
        client.query(copyFrom('COPY readings (time, machine_id, sensor, value) FROM STDIN')),
      );
    }
    return STAGE_ROWS / ((performance.now() - started) / 1000);
  } finally {
    await client.end();
  }
}

type Insert = (rows: Reading[]) => Promise<unknown>;

/** The write stage alone: batches of 5,000 prepared rows, each in its own transaction, 2 writers. */
async function writeStageRate(insert: Insert, prefix: string): Promise<number> {
  const rows = syntheticRows(STAGE_ROWS, prefix);
  const batches: Reading[][] = [];
  for (let off = 0; off < rows.length; off += 5000) batches.push(rows.slice(off, off + 5000));
  const started = performance.now();
  let next = 0;
  const writer = async () => {
    while (next < batches.length) await insert(batches[next++]);
  };
  await Promise.all([writer(), writer()]);
  return STAGE_ROWS / ((performance.now() - started) / 1000);
}

/** Messages as the publishers send them: 100 machines, 2-10 sensors, epoch-ms timestamps. */
function benchMessages(n: number): { topic: string; payload: Buffer }[] {
  const base = Date.now() - 3_600_000;
  return Array.from({ length: n }, (_, i) => {
    const m = i % MACHINES;
    const values: Record<string, number> = { s0: Date.now() };
    for (let k = 1; k < 2 + (m % 9); k++) values[`s${k}`] = Math.random() * 100;
    return {
      topic: `plants/bench/machines/bench-m${m}/telemetry`,
      payload: Buffer.from(JSON.stringify({ ts: base + i, values })),
    };
  });
}

/** The decode stage alone (payload -> validated readings), in messages/s, with zod or the fast check. */
function decodeRate(validation: 'zod' | 'fast', messages: { topic: string; payload: Buffer }[]): number {
  const decoder = new MessageDecoder({ maxPayloadBytes: 1 << 20, maxFutureMs: 300_000, maxAgeMs: 0 });
  decoder.jsonValidation = validation;
  const now = Date.now();
  let readings = 0;
  const started = performance.now();
  for (const m of messages) readings += decoder.decode(m.topic, m.payload, now).readings.length;
  if (readings === 0) throw new Error('nothing decoded');
  return messages.length / ((performance.now() - started) / 1000);
}

async function endToEnd(broker: string, mqttUrl: string | undefined) {
  const database = await createTestDatabase('external');
  const baseline = broker.endsWith('3.1.1+zod');
  const h = await startIngestion(database.config, {
    mqttUrl,
    env: { LOG_LEVEL: 'error', INGESTION_SHARED_SUBSCRIPTION: 'false' },
    messaging: baseline ? { mqttVersions: [4] } : {},
  });
  if (baseline) h.service.decoder.jsonValidation = 'zod';
  // `-insert`: every batch through the conflict-tolerant insert instead of the optimistic COPY.
  if (broker.endsWith('-insert')) h.proc.app.get(IngestionRepository).writeMethod = 'insert';
  try {
    const latencies: number[] = [];
    let stored = 0;
    let firstCommit = 0;
    let lastCommit = 0;
    h.service.onCommitted((batch) => {
      const { sensors, values, length } = batch.columns;
      for (let i = 0; i < length; i++) if (sensors[i] === 's0') latencies.push(batch.committedAt - values[i]);
      stored += length;
      firstCommit ||= batch.committedAt;
      lastCommit = batch.committedAt;
    });
    let queuedSum = 0;
    let queuedSamples = 0;
    const sampler = setInterval(() => {
      queuedSum += h.service.queued;
      queuedSamples++;
    }, 100);
    const base = Date.now() - 3_600_000;
    const workers = Array.from(
      { length: PUBLISHERS },
      (_, index) =>
        new Worker(PUBLISHER_JS, {
          eval: true,
          workerData: {
            url: h.url,
            index,
            publishers: PUBLISHERS,
            machines: MACHINES,
            durationMs: DURATION_S * 1000,
            base,
          },
        }),
    );
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const started = Date.now();
    const results = workers.map(
      (w) => new Promise<{ sent: number; acked: number; readings: number }>((r) => w.once('message', r)),
    );
    const elu0 = perf.eventLoopUtilization();
    for (const w of workers) w.postMessage('go');
    const totals = (await Promise.all(results)).reduce((a, b) => ({
      sent: a.sent + b.sent,
      acked: a.acked + b.acked,
      readings: a.readings + b.readings,
    }));
    const publishedS = (Date.now() - started) / 1000;
    const elu = perf.eventLoopUtilization(elu0).utilization;
    clearInterval(sampler);
    await Promise.all(workers.map((w) => w.terminate()));
    // Drain: wait until everything acknowledged by the broker is committed (or 90 s).
    const deadline = Date.now() + 90_000;
    while (stored < totals.readings && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await h.service.flush();
    const [{ n }] = await h.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM readings WHERE machine_id LIKE 'bench-m%'`,
    );
    const sorted = Float64Array.from(latencies).sort();
    const seconds = (lastCommit - started) / 1000;
    return {
      broker,
      messages: totals.acked,
      published: totals.readings,
      stored: n,
      lost: totals.readings - n,
      publishS: publishedS,
      rate: n / seconds,
      p50: pct(sorted, 0.5),
      p99: pct(sorted, 0.99),
      firstCommit: firstCommit - started,
      elu,
      queuedMean: queuedSamples ? queuedSum / queuedSamples : 0,
    };
  } finally {
    await h.close();
    await database.drop();
  }
}

async function main() {
  console.log(
    `bench:ingest — ${DURATION_S} s per broker, ${PUBLISHERS} publishers, ${MACHINES} machines, 2-10 sensors per message, QoS 1`,
  );
  console.log(`database ${DATABASE_URL.replace(/:[^:@/]+@/, ':***@')}`);

  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  console.log(`load average at start: ${load()}`);

  // Decode stage alone: the same messages through zod and through the fast check, alternately.
  const messages = benchMessages(100_000);
  const decode = { zod: 0, fast: 0 };
  for (let round = 0; round < 3; round++)
    for (const v of ['zod', 'fast'] as const) decode[v] = Math.max(decode[v], decodeRate(v, messages));
  console.log(
    `decode stage alone (best of 3): zod ${fmt(decode.zod)} messages/s, fast check ${fmt(decode.fast)} messages/s = ${(decode.fast / decode.zod).toFixed(2)}x`,
  );

  // Write stage (before and after) and bare COPY into the same table of the same database.
  const database = await createTestDatabase('external');
  const h = await startIngestion(database.config, { env: { LOG_LEVEL: 'error' } });
  let copy: number, stageBefore: number, stageInsert: number, stageAfter: number;
  try {
    const repo = h.proc.app.get(IngestionRepository);
    const readings = h.proc.app.get(ReadingsRepository);
    const db = h.proc.app.get(Database);
    const before: Insert = (rows) => db.dataSource.transaction((m) => readings.insertMany(rows, m));
    const method =
      (writeMethod: 'insert' | 'copy'): Insert =>
      (rows) => {
        repo.writeMethod = writeMethod;
        return db.dataSource.transaction((m) => repo.insertReadings(rows, m));
      };
    stageBefore = await writeStageRate(before, 'before');
    stageInsert = await writeStageRate(method('insert'), 'insert');
    stageAfter = await writeStageRate(method('copy'), 'after');
    // Once more each, in the other order, keeping the better of two (the machine is shared).
    stageAfter = Math.max(stageAfter, await writeStageRate(method('copy'), 'after2'));
    stageInsert = Math.max(stageInsert, await writeStageRate(method('insert'), 'insert2'));
    stageBefore = Math.max(stageBefore, await writeStageRate(before, 'before2'));
    copy = await copyRate((database.config as { url: string }).url);
  } finally {
    await h.close();
    await database.drop();
  }
  console.log(`bare COPY into readings:        ${fmt(copy)} rows/s`);
  console.log(
    `write stage alone (5,000-row batches, 2 writers, best of 2): insertMany ${fmt(stageBefore)} rows/s = ${((stageBefore / copy) * 100).toFixed(0)}% of COPY; ` +
      `insertReadings with ON CONFLICT insert ${fmt(stageInsert)} rows/s = ${((stageInsert / copy) * 100).toFixed(0)}% of COPY; ` +
      `insertReadings as shipped (binary COPY in a savepoint) ${fmt(stageAfter)} rows/s = ${((stageAfter / copy) * 100).toFixed(0)}% of COPY (${(stageAfter / stageInsert).toFixed(2)}x the ON CONFLICT insert)`,
  );

  let mosquitto: ChildProcess | null = null;
  const results = [];
  try {
    for (const broker of BROKERS) {
      let url: string | undefined;
      if (broker.startsWith('mosquitto')) {
        const m = await startMosquitto();
        mosquitto?.kill('SIGTERM');
        mosquitto = m.child;
        url = m.url;
      }
      const r = await endToEnd(broker, url);
      results.push(r);
      console.log(
        `${broker.padEnd(10)} ${fmt(r.rate)} readings/s stored (${fmt(r.messages)} messages, ${fmt(r.stored)} readings in ${r.publishS.toFixed(1)} s of publishing), ` +
          `publish->commit p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms, rows lost ${r.lost}, end to end = ${((r.rate / copy) * 100).toFixed(0)}% of bare COPY, ` +
          `ingestion thread busy ${(r.elu * 100).toFixed(0)}% while publishing, mean queue ${fmt(r.queuedMean)} readings`,
      );
    }
    const after = results.find((r) => r.broker === 'mosquitto');
    for (const baseline of ['mosquitto-3.1.1+zod', 'mosquitto-insert']) {
      const before = results.find((r) => r.broker === baseline);
      if (before && after)
        console.log(`end to end through Mosquitto, shipped / ${baseline}: ${(after.rate / before.rate).toFixed(2)}x`);
    }
    console.log(`load average at the end: ${load()}`);
  } finally {
    mosquitto?.kill('SIGTERM');
  }
  if (results.some((r) => r.lost !== 0)) {
    console.error('ROWS LOST');
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
