#!/usr/bin/env node
/**
 * `npm run soak` and `npm run overload` (issue 13, load and soak): the whole topology as separate
 * processes (scripts/cluster: api, 2 ingestion, 2 twin, alerting) on a private PostgreSQL (with
 * track_commit_timestamp, so that every reading's commit time is known) and a private Mosquitto
 * (deploy/mosquitto/mosquitto.conf: persistent sessions, unlimited queues), fed with QoS 1 telemetry.
 *
 * 1. Capacity probe (unless SOAK_CAPACITY is given): load publishers send as fast as a window of
 *    unacknowledged messages allows for SOAK_PROBE_S seconds; capacity = readings/s committed over
 *    the probe after its first 10 s (the rest waits in the broker or the publishers). Then the
 *    backlog drains.
 * 2. soak: SOAK_RATE (default 50% of the capacity) for SOAK_MINUTES (default 10).
 *    overload: 50% for a minute, 200% for OVERLOAD_MINUTES (default 3), then 50% until the backlogs
 *    (acknowledged and not committed; sent by the devices and not acknowledged) have drained (at most OVERLOAD_RECOVERY_MAX_MINUTES, default 10) and 90 s more (the latency of
 *    its last minute is compared with the first 50% minute's).
 * 3. Every SOAK_SAMPLE_S (5) seconds: each process's RSS (/proc/<pid>/status) and V8 heap (a preloaded
 *    probe, scripts/soak/heap-probe.cjs, which also forces a full garbage collection every
 *    SOAK_RETAINED_INTERVAL_MS, 30,000, and records the heap that survives it: the retained heap),
 *    Mosquitto's RSS, readings acknowledged and committed, the backlog; a progress line every 30 s
 *    with the latency (commit time - publish time) of that window.
 * 4. At the end: every acknowledged reading counted against the database (stored, lost); latency
 *    p50/p99 per minute; per process the retained heap's slope by least squares over the second half
 *    of the soak and the RSS high-water marks of both halves (the leak criteria), the RSS slope and
 *    the heap floor (information); PASS/FAIL against the criteria printed.
 *
 * Load: SOAK_MACHINES (100) machines over SOAK_PUBLISHERS (2) worker threads (scripts/soak/load-worker.cjs),
 * SOAK_SAMPLES_PER_MESSAGE (5) samples of 2-10 sensors per message (30 readings on average: batching
 * devices, and a publisher cheap enough to reach 200% on the same cores); sensor s0 is the publish
 * time. Besides, the simulator's plant (6 registered machines at 600x, about 60 readings/s,
 * test/faults/support/logging-publisher.ts) keeps the twins and alerting working.
 * SOAK_OUT=<file.json> writes the samples and the results.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Cluster } from './cluster/cluster';
import { storedReadings, tally } from '../test/faults/support/ledger';
import { LoggingPublisher } from '../test/faults/support/logging-publisher';
import { PrivateMosquitto } from '../test/faults/support/mosquitto';
import { PrivatePostgres } from '../test/faults/support/private-postgres';
import { MiB, RSS_MARGIN, distinctByTime, leastSquaresFit, floorSeries, fmt, rssHighWater, slope } from './soak/stats';

const root = join(__dirname, '..');
const MODE: 'soak' | 'overload' = process.argv.includes('--overload') ? 'overload' : 'soak';
const env = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number, got "${v}"`);
  return n;
};
const SOAK_MINUTES = env('SOAK_MINUTES', 10);
const PROBE_S = env('SOAK_PROBE_S', 45);
const SAMPLE_S = env('SOAK_SAMPLE_S', 5);
const PUBLISHERS = env('SOAK_PUBLISHERS', 2);
const MACHINES = env('SOAK_MACHINES', 100);
const OVERLOAD_MINUTES = env('OVERLOAD_MINUTES', 3);
const RECOVERY_MAX_MINUTES = env('OVERLOAD_RECOVERY_MAX_MINUTES', 10);
/** Retained-heap slope bound (MiB/min) over the second half of the soak; see docs/reliability.md. */
const SLOPE_BOUND = env('SOAK_SLOPE_BOUND_MIB_MIN', 1);
/** How often the probe forces a full collection to measure the retained heap (ms; 0 = never). */
const RETAINED_INTERVAL_MS = env('SOAK_RETAINED_INTERVAL_MS', 30_000);
/** Samples per message (a JSON array); each sample has its machine's 2-10 sensors. */
const SAMPLES_PER_MESSAGE = env('SOAK_SAMPLES_PER_MESSAGE', 5);
/**
 * Unacknowledged messages a paced publisher may have: a device's buffer (what falls due while it is
 * full is refused). At most 65,535: an MQTT connection has 16-bit packet identifiers, and mqtt.js's
 * default provider hands them out round-robin without checking which are still in flight, so past
 * 65,535 a new publish takes the identifier (and the PUBACK callback) of an older one, which then never
 * settles. With 150,000 per publisher, 7.8 million readings stayed "unacknowledged" after both of
 * session 5's overloads.
 */
const MAX_PACED_INFLIGHT = env('SOAK_PUBLISHER_BUFFER', 60_000);
if (MAX_PACED_INFLIGHT > 65_535)
  throw new Error(`SOAK_PUBLISHER_BUFFER: at most 65,535 (MQTT packet identifiers), got ${MAX_PACED_INFLIGHT}`);
const LAG_MS = 3_600_000;
const PLANT_SPEED = 600;

const started = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string) => console.log(`[${MODE} ${clock()}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

interface Counters {
  sent: number;
  acked: number;
  failed: number;
  sentReadings: number;
  ackedReadings: number;
  inflight: number;
  /** Readings sent and not yet acknowledged: what waits on the devices. */
  inflightReadings: number;
  /** Readings that fell due while a publisher's buffer of unacknowledged messages was full. */
  refusedReadings: number;
  /** Connections the publishers lost, and their reconnections. */
  closes: number;
  reconnects: number;
  behindS: number;
}
interface Ledger extends Counters {
  machines: Uint16Array;
  times: Float64Array;
  count: number;
}

const NO_COUNTS: Counters = {
  sent: 0,
  acked: 0,
  failed: 0,
  sentReadings: 0,
  ackedReadings: 0,
  inflight: 0,
  inflightReadings: 0,
  refusedReadings: 0,
  closes: 0,
  reconnects: 0,
  behindS: 0,
};

/** The load publishers (worker threads). */
class Load {
  readonly machines = Array.from({ length: MACHINES }, (_, i) => ({
    id: `soak-m${String(i).padStart(3, '0')}`,
    sensors: 2 + (i % 9),
  }));
  private readonly workers: Worker[] = [];
  private readonly counters: Counters[] = [];
  private readonly mine: number[][] = [];
  rate: number | null = 0;
  private stopped = false;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    for (let w = 0; w < PUBLISHERS; w++) {
      const mine = this.machines.map((_, i) => i).filter((i) => i % PUBLISHERS === w);
      this.mine.push(mine);
      const worker = new Worker(join(__dirname, 'soak/load-worker.cjs'), {
        workerData: {
          url: this.url,
          clientId: `soak-load-${w}-${process.pid}`,
          machines: mine.map((i) => this.machines[i]),
          lagMs: LAG_MS,
          samples: SAMPLES_PER_MESSAGE,
          window: 1000,
          maxPaced: MAX_PACED_INFLIGHT,
          counters: NO_COUNTS,
        },
      });
      this.counters.push({ ...NO_COUNTS });
      worker.on('message', (m: { type: string } & Counters) => {
        if (m.type === 'progress') this.counters[w] = m;
      });
      worker.on('error', (err) => say(`load publisher ${w} failed: ${err.message}`));
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      this.workers.push(worker);
    }
  }

  /** Readings/s in all (split over the workers), or null for as fast as the window allows. */
  setRate(rate: number | null): void {
    this.rate = rate;
    for (const w of this.workers)
      w.postMessage({ type: 'rate', readingsPerS: rate === null ? null : rate / this.workers.length });
  }

  get totals(): Counters {
    return this.counters.reduce(
      (a, b) => ({
        sent: a.sent + b.sent,
        acked: a.acked + b.acked,
        failed: a.failed + b.failed,
        sentReadings: a.sentReadings + b.sentReadings,
        ackedReadings: a.ackedReadings + b.ackedReadings,
        inflight: a.inflight + b.inflight,
        inflightReadings: a.inflightReadings + b.inflightReadings,
        refusedReadings: a.refusedReadings + b.refusedReadings,
        closes: a.closes + b.closes,
        reconnects: a.reconnects + b.reconnects,
        behindS: Math.max(a.behindS, b.behindS),
      }),
      { ...NO_COUNTS },
    );
  }

  /** Stops publishing; resolves with every worker's ledger, machine indices made global. */
  async stop(): Promise<{ machines: Uint16Array; times: Float64Array; totals: Counters }[]> {
    if (this.stopped) return [];
    this.stopped = true;
    return Promise.all(
      this.workers.map(
        (w, wi) =>
          new Promise<{ machines: Uint16Array; times: Float64Array; totals: Counters }>((resolve) => {
            w.on('message', (m: { type: string } & Ledger) => {
              if (m.type !== 'ledger') return;
              const global = m.machines.map((local) => this.mine[wi][local]);
              this.counters[wi] = m;
              void w.terminate();
              resolve({ machines: global, times: m.times, totals: m });
            });
            w.postMessage({ type: 'stop' });
          }),
      ),
    );
  }
}

interface ProcSample {
  rss: number;
  heapUsed: number | null;
  loopP99Ms: number | null;
  /** The probe's latest retained heap (heapUsed after a forced full GC), its time and its pause. */
  retained: number | null;
  retainedT: number | null;
  gcMs: number | null;
  /** CPU time used so far (user + system, seconds; threads included). */
  cpuS: number | null;
}
interface Sample {
  t: number;
  phase: string;
  rate: number | null;
  /** Readings sent by the publishers, acknowledged by the broker, committed. */
  sent: number;
  acked: number;
  stored: number;
  /**
   * Offered load: readings sent + readings the publishers refused because their buffer of
   * unacknowledged messages was full (backpressure reaching the devices).
   */
  offered: number;
  /** Acknowledged, not yet committed: what waits in ingestion (or in flight to the database). */
  backlog: number;
  /** Sent, not yet acknowledged: what waits on the devices (their buffers, the broker's socket). */
  pending: number;
  /** Vacuums and analyzes running in PostgreSQL at the sample (`table:phase`), autovacuum's included. */
  vacuums: string[];
  /** The kernel's dirty page cache (bytes, /proc/meminfo Dirty): the whole machine's. */
  dirty: number | null;
  /** CPU time used so far by every process named `postgres` (server and backends; seconds). */
  postgresCpuS: number;
  /**
   * The same split by who: a client backend by its connection's application_name (each app's
   * instance name, `soak` for the harness), any other by its backend type (autovacuum worker,
   * checkpointer, walwriter, ...); `postmaster` for the server itself.
   */
  postgresCpuBy: Record<string, number>;
  /** pg_stat_bgwriter so far: checkpoints, and the buffers written by each writer (the backends' own writes are evictions). */
  bgwriter: {
    checkpoints: number;
    checkpointMs: number;
    byCheckpointer: number;
    byBgwriter: number;
    byBackends: number;
  };
  /** CPU time used so far by this process (the publishers, the sampling; seconds). */
  harnessCpuS: number;
  apiHealthMs: number;
  procs: Record<string, ProcSample>;
}

/** CPU time (s) of this process, worker threads included. */
function harnessCpuS(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Dirty of /proc/meminfo (bytes), null where there is none (not Linux). */
function dirtyPages(): number | null {
  try {
    const m = /^Dirty:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** CPU time (user + system, s) of a process from /proc/<pid>/stat, with its command name. */
function cpuOf(pid: number | string): { comm: string; cpuS: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), here 0-based from state.
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      cpuS: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    };
  } catch {
    return null;
  }
}

/**
 * CPU time (s) used by processes named `postgres` since the first call, summed per process from one
 * call to the next: backends come and go, and a plain sum over the live ones would drop an exited
 * backend's time (a process first seen counts whole: it started since the last call). `who` names
 * the processes pg_stat_activity knows (by pid); the total is also split by those names.
 */
/** A process pg_stat_activity does not list: the server itself, or what its title says it is. */
function postgresTitle(pid: string): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith('postgres: ') ? cmdline.slice(10).split(/\s+/)[0] : 'postmaster';
  } catch {
    return 'other';
  }
}

const postgresSeen = new Map<string, { cpuS: number; who: string }>();
const postgresBy: Record<string, number> = {};
let postgresTotal = 0;
let postgresCalls = 0;
function postgresCpu(who: Map<string, string>): { total: number; by: Record<string, number> } {
  const first = postgresCalls++ === 0;
  const live = new Set<string>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const c = cpuOf(pid);
    if (c?.comm !== 'postgres') continue;
    live.add(pid);
    const before = postgresSeen.get(pid);
    const name = who.get(pid) ?? before?.who ?? postgresTitle(pid);
    if (!first) {
      const used = c.cpuS - (before?.cpuS ?? 0);
      postgresTotal += used;
      postgresBy[name] = (postgresBy[name] ?? 0) + used;
    }
    postgresSeen.set(pid, { cpuS: c.cpuS, who: name });
  }
  for (const pid of postgresSeen.keys()) if (!live.has(pid)) postgresSeen.delete(pid);
  return { total: postgresTotal, by: { ...postgresBy } };
}

function rssOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

interface ProbeReading {
  heapUsed: number | null;
  loopP99Ms: number | null;
  retained: number | null;
  retainedT: number | null;
  gcMs: number | null;
}

/**
 * The probe's latest lines: the last 2 s sample (heapUsed, loop delay) and the last retained-heap
 * measurement (its own line, every SOAK_RETAINED_INTERVAL_MS), searched from the end of the file.
 */
function probeOf(dir: string, pid: number | undefined): ProbeReading | null {
  if (!pid) return null;
  const file = join(dir, `${pid}.jsonl`);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const r: ProbeReading = { heapUsed: null, loopP99Ms: null, retained: null, retainedT: null, gcMs: null };
  for (let i = lines.length - 1; i >= 0 && (r.heapUsed === null || r.retained === null); i--) {
    let line: { t?: number; heapUsed?: number; loopP99Ms?: number; retained?: number; gcMs?: number };
    try {
      line = JSON.parse(lines[i]) as typeof line;
    } catch {
      continue; // a line being written
    }
    if (r.heapUsed === null && line.heapUsed !== undefined) {
      r.heapUsed = line.heapUsed;
      r.loopP99Ms = line.loopP99Ms ?? null;
    }
    if (r.retained === null && line.retained !== undefined) {
      r.retained = line.retained;
      r.retainedT = line.t ?? null;
      r.gcMs = line.gcMs ?? null;
    }
  }
  return r;
}

async function main(): Promise<void> {
  say(`starting: load average ${load()}`);
  const pg = await PrivatePostgres.start({ durable: true });
  let broker: PrivateMosquitto | undefined;
  let cluster: Cluster | undefined;
  let plant: LoggingPublisher | undefined;
  let load_: Load | undefined;
  const pool = new Pool({ connectionString: pg.url, max: 3 });
  pool.on('error', () => undefined);
  const probeDir = mkdtempSync(join(tmpdir(), 'continuum-soak-probe-'));
  const out = process.env.SOAK_OUT;
  const cleanup = async () => {
    await plant?.stop(2000).catch(() => undefined);
    await cluster?.stop(20_000).catch(() => undefined);
    await pool.end().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    // PostgreSQL's log (slow statements, plans, autovacuum and checkpoints where PG_EXTRA_OPTS asks for them).
    if (out && existsSync(pg.logFile)) copyFileSync(pg.logFile, `${out}.pg.log`);
    await pg.close().catch(() => undefined);
    rmSync(probeDir, { recursive: true, force: true });
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: stopping everything');
    void cleanup().then(() => process.exit(130));
  });
  try {
    // Commit timestamps: the time each reading was stored, for the latency.
    await pool.query(`ALTER SYSTEM SET track_commit_timestamp = on`);
    await pool.end();
    await pg.restart(0);
    // The harness's own queries stay light: one (machine, s0) range of the primary key at a time (a
    // LATERAL per machine; with `machine_id = ANY(...)` PostgreSQL walked the time index through every
    // reading of the window, 2-9 s every 30 s in session 5's run C) and no parallel workers.
    const db = new Pool({
      connectionString: pg.url,
      max: 3,
      application_name: 'soak',
      options: '-c max_parallel_workers_per_gather=0',
    });
    db.on('error', () => undefined);
    const q = async <T = Record<string, any>>(sql: string, params: unknown[] = []) =>
      (await db.query(sql, params)).rows as T[];
    broker = await PrivateMosquitto.start(root);

    const exits: string[] = [];
    const warnings: string[] = [];
    let warningCount = 0;
    cluster = await Cluster.start({
      counts: { api: 1, ingestion: env('SOAK_INGESTION', 2), twin: env('SOAK_TWIN', 2), alerting: 1 },
      databaseUrl: pg.url,
      mqttUrl: broker.url,
      prefix: 'soak',
      log: (line) => {
        if (/exited unexpectedly/.test(line)) {
          exits.push(line);
          say(line);
          return;
        }
        const level = /"level":(\d+)/.exec(line);
        if (level && Number(level[1]) < 40) return; // the twin logs at info (the harness needs its start line)
        warningCount++;
        if (out) appendFileSync(`${out}.apps.log`, `${line.replace(/ck_[\w-]+/g, 'ck_***')}\n`);
        if (warnings.length < 30) {
          warnings.push(line);
          say(line.replace(/ck_[\w-]+/g, 'ck_***').slice(0, 300));
        }
      },
      env: {
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: `--require ${join(__dirname, 'soak/heap-probe.cjs')}`,
        SOAK_PROBE_DIR: probeDir,
        SOAK_RETAINED_INTERVAL_MS: String(RETAINED_INTERVAL_MS),
        TWIN_MODELS_DIR: join(root, 'models/default'),
      },
    });
    const procs: { name: string; pid: () => number | undefined; node: boolean }[] = [
      ...cluster.instances.map((i) => ({ name: i.name, pid: () => i.pid, node: true })),
      { name: 'mosquitto', pid: () => broker!.pid, node: false },
    ];
    const api = cluster.of('api')[0];
    say(`cluster up: ${cluster.instances.map((i) => `${i.name} (pid ${i.pid})`).join(', ')}`);

    // The simulated plant (registered machines: twins, alerting).
    const plannedS =
      PROBE_S + 300 + (MODE === 'soak' ? SOAK_MINUTES * 60 : (OVERLOAD_MINUTES + RECOVERY_MAX_MINUTES + 2) * 60);
    plant = new LoggingPublisher({
      url: broker.url,
      clientId: 'soak-plant',
      plantId: 'soak-plant',
      machines: 6,
      speed: PLANT_SPEED,
      startMs: Date.now() - PLANT_SPEED * (plannedS + 600) * 1000,
    });
    for (const m of plant.machines)
      await q(`INSERT INTO machines (id, plant_id, asset_type, name, sensors) VALUES ($1, $2, $3, $1, $4)`, [
        m.machineId,
        'soak-plant',
        m.assetType,
        JSON.stringify(m.sensors),
      ]);
    const insertedBase = Number(
      (await q(`SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'readings'`))[0].n_tup_ins,
    );
    await plant.start();
    const loadGen = (load_ = new Load(broker.url));
    await loadGen.start();
    const loadIds = loadGen.machines.map((m) => m.id);

    // --- sampling ---------------------------------------------------------------------------------
    const samples: Sample[] = [];
    let phase = 'start';
    const ackedNow = () => loadGen.totals.ackedReadings + plant!.acked.size;
    const takeSample = async (): Promise<Sample> => {
      const [{ n }] = await q<{ n: string }>(
        `SELECT n_tup_ins AS n FROM pg_stat_user_tables WHERE relname = 'readings'`,
      );
      const stored = Number(n) - insertedBase;
      const vacuums = (
        await q<{ v: string }>(
          `SELECT relid::regclass || ':' || phase AS v FROM pg_stat_progress_vacuum
           UNION ALL SELECT relid::regclass || ':analyze' FROM pg_stat_progress_analyze`,
        )
      ).map((r) => r.v);
      // Who each PostgreSQL process is: the apps name their connections (PGAPPNAME, set per instance).
      const who = new Map<string, string>();
      for (const r of await q<{ pid: number; who: string }>(
        `SELECT pid, CASE WHEN backend_type = 'client backend' THEN coalesce(nullif(application_name, ''), 'client')
                          ELSE backend_type END AS who FROM pg_stat_activity`,
      ))
        who.set(String(r.pid), r.who.replace(/-\d+$/, ''));
      const pgCpu = postgresCpu(who);
      const [bg] = await q<Record<string, string>>(
        `SELECT checkpoints_timed + checkpoints_req AS checkpoints, checkpoint_write_time + checkpoint_sync_time AS ms,
                buffers_checkpoint, buffers_clean, buffers_backend FROM pg_stat_bgwriter`,
      );
      const totals = loadGen.totals;
      const acked = totals.ackedReadings + plant!.acked.size;
      const t0 = performance.now();
      await api.health();
      const apiHealthMs = performance.now() - t0;
      const ps: Record<string, ProcSample> = {};
      for (const p of procs) {
        const pid = p.pid();
        const rss = rssOf(pid);
        if (rss === null) continue;
        const probe = p.node ? probeOf(probeDir, pid) : null;
        ps[p.name] = {
          rss,
          heapUsed: probe?.heapUsed ?? null,
          loopP99Ms: probe?.loopP99Ms ?? null,
          retained: probe?.retained ?? null,
          retainedT: probe?.retainedT ?? null,
          gcMs: probe?.gcMs ?? null,
          cpuS: pid ? (cpuOf(pid)?.cpuS ?? null) : null,
        };
      }
      const s: Sample = {
        t: Date.now(),
        phase,
        rate: loadGen.rate,
        sent: totals.sentReadings + plant!.acked.size,
        acked,
        stored,
        offered: totals.sentReadings + totals.refusedReadings + plant!.acked.size,
        backlog: Math.max(0, acked - stored),
        pending: totals.inflightReadings,
        vacuums,
        dirty: dirtyPages(),
        postgresCpuS: pgCpu.total,
        postgresCpuBy: pgCpu.by,
        bgwriter: {
          checkpoints: Number(bg.checkpoints),
          checkpointMs: Number(bg.ms),
          byCheckpointer: Number(bg.buffers_checkpoint),
          byBgwriter: Number(bg.buffers_clean),
          byBackends: Number(bg.buffers_backend),
        },
        harnessCpuS: harnessCpuS(),
        apiHealthMs,
        procs: ps,
      };
      samples.push(s);
      if (out) appendFileSync(`${out}.samples.jsonl`, `${JSON.stringify(s)}\n`);
      return s;
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const next = Date.now() + SAMPLE_S * 1000;
        await takeSample().catch((err: Error) => say(`sample failed: ${err.message}`));
        await sleep(Math.max(0, next - Date.now()));
      }
    })();

    /** Latency (commit - publish) of the load readings published in [from, to): p50, p99, count. */
    const latency = async (from: number, to: number) => {
      const [r] = await q<{ n: number; p50: number; p99: number; max: number }>(
        `SELECT count(*)::int AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY lat) AS p50,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY lat) AS p99, max(lat) AS max
         FROM unnest($1::text[]) AS m(id)
         CROSS JOIN LATERAL (
           SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 - value AS lat
           FROM readings WHERE machine_id = m.id AND sensor = 's0'
             AND time >= to_timestamp($2::float8 / 1000) AND time < to_timestamp($3::float8 / 1000)
             AND value >= $4 AND value < $5) x`,
        [loadIds, from - LAG_MS - 1000, to - LAG_MS + 1000, from, to],
      );
      return r;
    };

    const procLine = (s: Sample | undefined) =>
      s
        ? Object.entries(s.procs)
            .map(
              ([name, p]) =>
                `${name} ${fmt(p.rss / MiB)}${p.heapUsed !== null ? `/${fmt(p.heapUsed / MiB)}/${fmt((p.retained ?? NaN) / MiB)}` : ''}`,
            )
            .join(', ')
        : '';
    let lastProgress = Date.now();
    let lastProgressAcked = ackedNow();
    let lastProgressSent = 0;
    let lastProgressStored = 0;
    const progress = async () => {
      const now = Date.now();
      const s = samples[samples.length - 1];
      const dt = (now - lastProgress) / 1000;
      const lat = await latency(lastProgress, now - 2000).catch(() => null);
      const pubRate = (ackedNow() - lastProgressAcked) / dt;
      const sentRate = s ? (s.sent - lastProgressSent) / dt : 0;
      const storedRate = s ? (s.stored - lastProgressStored) / dt : 0;
      say(
        `${phase}: target ${loadGen.rate === null ? 'max' : fmt(loadGen.rate)}/s, sent ${fmt(sentRate)}/s, acked ${fmt(pubRate)}/s, stored ${fmt(storedRate)}/s, ` +
          `backlog ${fmt(s?.backlog ?? 0)}, on the devices ${fmt(s?.pending ?? 0)} | latency p50 ${fmt(lat?.p50 ?? NaN)} ms p99 ${fmt(lat?.p99 ?? NaN)} ms (${fmt(lat?.n ?? 0)} msgs) | ` +
          `RSS/heap/retained MiB: ${procLine(s)} | dirty page cache ${fmt((s?.dirty ?? NaN) / MiB)} MiB | load ${load()}`,
      );
      lastProgress = now;
      lastProgressAcked = ackedNow();
      lastProgressSent = s?.sent ?? 0;
      lastProgressStored = s?.stored ?? 0;
    };
    /** Runs for `seconds` (or until `until` says so), with a progress line every 30 s. */
    const hold = async (seconds: number, until?: () => boolean) => {
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        await sleep(Math.min(1000, end - Date.now()));
        if (Date.now() - lastProgress >= 30_000) await progress();
        if (until?.()) return true;
      }
      return false;
    };
    const enter = (name: string, rate: number | null) => {
      phase = name;
      loadGen.setRate(rate);
      lastProgress = Date.now();
      lastProgressAcked = ackedNow();
      lastProgressSent = samples[samples.length - 1]?.sent ?? 0;
      lastProgressStored = samples[samples.length - 1]?.stored ?? 0;
      say(`phase ${name}: ${rate === null ? 'as fast as possible' : `${fmt(rate)} readings/s`}`);
      return Date.now();
    };
    /**
     * Drained: at most 2 s of load waits, both in ingestion (acknowledged, not committed) and on the
     * devices (sent, not acknowledged: after an overload the publishers hold the excess and send it
     * before their new readings, so a reading published then still waits behind it).
     */
    const drained = (rate: number) => {
      const s = samples[samples.length - 1];
      const bound = Math.max(2 * rate, 500);
      return s !== undefined && s.t > Date.now() - SAMPLE_S * 1000 && s.backlog <= bound && s.pending <= bound;
    };

    // --- capacity ---------------------------------------------------------------------------------
    let capacity = env('SOAK_CAPACITY', 0);
    let capacityNote = 'given (SOAK_CAPACITY)';
    if (capacity === 0) {
      const probeStart = enter('capacity probe', null);
      await hold(PROBE_S);
      const window = samples.filter((s) => s.t >= probeStart + 10_000);
      const a = window[0];
      const b = window[window.length - 1];
      capacity = (b.stored - a.stored) / ((b.t - a.t) / 1000);
      const publisherLimited = b.backlog < capacity;
      capacityNote = publisherLimited
        ? `measured, but the publishers did not outpace ingestion (backlog ${fmt(b.backlog)}): capacity is at least this`
        : `measured: committed readings/s over ${((b.t - a.t) / 1000).toFixed(0)} s of saturation (backlog ${fmt(b.backlog)} readings)`;
      say(`capacity ${fmt(capacity)} readings/s (${capacityNote}); draining the backlog`);
      enter('drain', 0);
      const drainStart = Date.now();
      await hold(300, () => drained(0));
      say(`drained in ${((Date.now() - drainStart) / 1000).toFixed(0)} s`);
    }
    const soakRate = MODE === 'soak' ? env('SOAK_RATE', 0) || capacity / 2 : capacity / 2;

    // --- the run ----------------------------------------------------------------------------------
    const windows: { name: string; from: number; to: number; rate: number }[] = [];
    const run = async (name: string, rate: number, seconds: number, until?: () => boolean) => {
      const from = enter(name, rate);
      const ended = await hold(seconds, until);
      windows.push({ name, from, to: Date.now(), rate });
      return ended;
    };
    let recoveryS = NaN;
    if (MODE === 'soak') {
      await run('soak', soakRate, SOAK_MINUTES * 60);
    } else {
      await run('base 50%', soakRate, 60);
      await run('overload 200%', 2 * capacity, OVERLOAD_MINUTES * 60);
      const overEnd = Date.now();
      const recovered = await run('recovery 50%', soakRate, RECOVERY_MAX_MINUTES * 60, () => drained(soakRate));
      recoveryS = recovered ? (Date.now() - overEnd) / 1000 : NaN;
      say(recovered ? `backlog drained ${recoveryS.toFixed(0)} s after the overload` : 'backlog NOT drained');
      await run('after 50%', soakRate, 90);
    }
    const runEnd = enter('final drain', 0);
    await hold(300, () => drained(0));
    const ledgers = await loadGen.stop();
    await plant.stop(10_000);
    const plantAcked = [...plant.acked.keys()];
    sampling = false;
    await sampler;

    // --- the ledger: every acknowledged reading against the database --------------------------------
    say('counting acknowledged readings against the database');
    const client = await db.connect();
    let ledger: { messages: number; acked: number; stored: number };
    try {
      await client.query(`SET work_mem = '256MB'`);
      await client.query(`CREATE TEMP TABLE soak_acked (mi int, t timestamptz)`);
      await client.query(`CREATE TEMP TABLE soak_machines (mi int, id text, k int)`);
      await client.query(
        `INSERT INTO soak_machines SELECT i - 1, id, k FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS x(id, k, i)`,
        [loadIds, loadGen.machines.map((m) => m.sensors)],
      );
      for (const l of ledgers) {
        const chunks = function* () {
          for (let off = 0; off < l.times.length; off += 50_000) {
            let text = '';
            for (let i = off; i < Math.min(off + 50_000, l.times.length); i++)
              text += `${l.machines[i]}\t${new Date(l.times[i]).toISOString()}\n`;
            yield text;
          }
        };
        await pipeline(Readable.from(chunks()), client.query(copyFrom('COPY soak_acked (mi, t) FROM STDIN')));
      }
      const count = async () => {
        const { rows } = await client.query(
          `WITH s AS (SELECT machine_id, time, count(*)::int AS n FROM readings WHERE machine_id = ANY($1) GROUP BY 1, 2)
           SELECT count(*)::int AS messages, coalesce(sum(m.k), 0)::float8 AS acked,
                  coalesce(sum(least(coalesce(s.n, 0), m.k)), 0)::float8 AS stored
           FROM soak_acked a JOIN soak_machines m USING (mi) LEFT JOIN s ON s.machine_id = m.id AND s.time = a.t`,
          [loadIds],
        );
        return rows[0] as { messages: number; acked: number; stored: number };
      };
      ledger = await count();
      for (let i = 0; i < 12 && ledger.stored < ledger.acked; i++) {
        await sleep(10_000); // something still in flight: give it time, then count again
        ledger = await count();
      }
    } finally {
      client.release();
    }
    const plantTally = tally(
      plantAcked,
      await storedReadings(
        (sql, p) => q(sql, p),
        plant.machines.map((m) => m.machineId),
      ),
    );
    const loadTotals = ledgers.reduce((a, l) => a + l.totals.failed, 0);
    const connectionsLost = ledgers.reduce((a, l) => a + l.totals.closes, 0);
    const notAcknowledged = ledgers.reduce((a, l) => a + l.totals.inflightReadings, 0);

    // --- results ----------------------------------------------------------------------------------
    const perMinute = await q<{ minute: number; n: number; p50: number; p99: number; max: number }>(
      `SELECT floor((value - $2) / 60000)::int AS minute, count(*)::int AS n,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY lat) AS p50,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY lat) AS p99, max(lat) AS max
       FROM unnest($1::text[]) AS m(id)
       CROSS JOIN LATERAL (
         SELECT value, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 - value AS lat
         FROM readings WHERE machine_id = m.id AND sensor = 's0' AND time >= to_timestamp($3::float8 / 1000)) x
       WHERE value >= $2 GROUP BY 1 ORDER BY 1`,
      [loadIds, windows[0].from, windows[0].from - LAG_MS - 1000],
    );
    const phaseAt = (t: number) => windows.find((w) => t >= w.from && t < w.to)?.name ?? 'final drain';
    console.log('');
    say(`results (${MODE}), load average ${load()}`);
    console.log(`capacity: ${fmt(capacity)} readings/s, ${capacityNote}`);
    for (const w of windows) {
      const inW = samples.filter((s) => s.t >= w.from && s.t <= w.to);
      const a = inW[0];
      const b = inW[inW.length - 1];
      const per = (k: 'offered' | 'sent' | 'acked' | 'stored') => (a && b ? (b[k] - a[k]) / ((b.t - a.t) / 1000) : NaN);
      const lat = await latency(w.from, w.to);
      const peaks = procs
        .map((p) => `${p.name} ${fmt(Math.max(...inW.map((s) => s.procs[p.name]?.rss ?? 0)) / MiB)}`)
        .join(', ');
      const backlogPeak = Math.max(...inW.map((s) => s.backlog));
      const pendingPeak = Math.max(...inW.map((s) => s.pending));
      console.log(
        `phase ${w.name}: ${((w.to - w.from) / 1000).toFixed(0)} s, target ${fmt(w.rate)} readings/s (${((w.rate / capacity) * 100).toFixed(0)}% of capacity), ` +
          `offered ${fmt(per('offered'))}/s, sent ${fmt(per('sent'))}/s, acknowledged ${fmt(per('acked'))}/s, committed ${fmt(per('stored'))}/s, ` +
          `backlog peak ${fmt(backlogPeak)} / at the end ${fmt(b?.backlog ?? NaN)} readings, ` +
          `on the devices peak ${fmt(pendingPeak)} / at the end ${fmt(b?.pending ?? NaN)}; latency of its readings p50 ${fmt(lat.p50)} ms, ` +
          `p99 ${fmt(lat.p99)} ms, max ${fmt(lat.max)} ms; peak RSS MiB: ${peaks}`,
      );
    }
    // What PostgreSQL's (auto)vacuum was doing in each minute: `readings` 6/12 = seen in 6 of 12 samples.
    const vacuumsIn = (from: number) => {
      const inMinute = samples.filter((s) => s.t >= from && s.t < from + 60_000);
      const seen = new Map<string, number>();
      for (const s of inMinute)
        for (const table of new Set(s.vacuums.map((v) => v.replace(/:.*/, ''))))
          seen.set(table, (seen.get(table) ?? 0) + 1);
      const dirty = Math.max(...inMinute.map((s) => s.dirty ?? NaN));
      // CPU in cores over the minute: processes of one kind summed (ingestion-1 + ingestion-2 = ingestion).
      const [a, b] = [inMinute[0], inMinute[inMinute.length - 1]];
      const cores: Record<string, number> = {};
      const pgCores: Record<string, number> = {};
      let writes = '—';
      if (a && b && b.t > a.t) {
        const dt = (b.t - a.t) / 1000;
        for (const name of Object.keys(b.procs)) {
          const used = (b.procs[name].cpuS ?? NaN) - (a.procs[name]?.cpuS ?? NaN);
          if (Number.isFinite(used))
            cores[name.replace(/-\d+$/, '')] = (cores[name.replace(/-\d+$/, '')] ?? 0) + used / dt;
        }
        cores.postgres = (b.postgresCpuS - a.postgresCpuS) / dt;
        for (const [who, used] of Object.entries(b.postgresCpuBy ?? {}))
          pgCores[who] = (used - (a.postgresCpuBy?.[who] ?? 0)) / dt;
        if (a.bgwriter && b.bgwriter) {
          const d = (k: keyof Sample['bgwriter']) => b.bgwriter[k] - a.bgwriter[k];
          writes =
            `${d('checkpoints')} (${fmt(d('checkpointMs') / 1000)} s); ` +
            `${fmt(d('byCheckpointer') / dt)} / ${fmt(d('byBgwriter') / dt)} / ${fmt(d('byBackends') / dt)}`;
        }
        cores.harness = (b.harnessCpuS - a.harnessCpuS) / dt;
      }
      const cpu = Object.entries(cores)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ');
      const pgCpu = Object.entries(pgCores)
        .filter(([, v]) => v >= 0.005)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ');
      return {
        vacuums: [...seen].map(([table, k]) => `${table} ${k}/${inMinute.length}`).join(', ') || '—',
        dirty,
        cpu: cpu || '—',
        pgCpu: pgCpu || '—',
        writes,
      };
    };
    console.log('\nlatency, publish -> commit, per minute of publish time (load readings; ms):');
    console.log(
      '| minute | phase | messages | p50 | p99 | max | vacuum or analyze running (samples) | dirty page cache, max (MiB) | CPU (cores) | PostgreSQL CPU by process (cores) | checkpoints (time); buffers/s written by checkpointer / bgwriter / backends |\n' +
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const m of perMinute) {
      const from = windows[0].from + m.minute * 60_000;
      const pg = vacuumsIn(from);
      console.log(
        `| ${m.minute + 1} | ${phaseAt(from + 30_000)} | ${fmt(m.n)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${fmt(m.max)} | ${pg.vacuums} | ${fmt(pg.dirty / MiB)} | ${pg.cpu} | ${pg.pgCpu} | ${pg.writes} |`,
      );
    }

    // Memory: per process over the main window (soak) or over the whole run (overload).
    const main_ = MODE === 'soak' ? windows[0] : { from: windows[0].from, to: windows[windows.length - 1].to };
    const half = main_.from + (main_.to - main_.from) / 2;
    const minutes = (t: number) => (t - main_.from) / 60_000;
    const halfMin = ((main_.to - half) / 60_000).toFixed(1);
    console.log(
      `\nmemory per process (MiB; slopes in MiB/min by least squares over the second half of the ${MODE === 'soak' ? 'soak' : 'run'}, ` +
        `${halfMin} min, ± standard error):\n` +
        `- retained: V8 heap after a full garbage collection the probe forces every ${fmt(RETAINED_INTERVAL_MS / 1000)} s (what the process keeps); ` +
        `start/end of the ${MODE === 'soak' ? 'soak' : 'run'}, slope over its second half (criterion: < ${SLOPE_BOUND} MiB/min)\n` +
        `- RSS peak 1st / 2nd half (limit): high-water marks; the second's limit is the first + max(${RSS_MARGIN.fraction * 100}%, ${RSS_MARGIN.minMiB} MiB) (criterion)\n` +
        `- RSS slope, heap peak, heap floor slope (floor = minimum heapUsed of every 30 s): information only, they move with the collector's timing and RSS high-water marks\n` +
        `- GC pause max: the longest of the probe's forced collections; loop delay p99 max: worst 2 s of event-loop delay (includes those pauses)`,
    );
    console.log(
      '| process | retained start | retained end | retained slope ± se | RSS start | RSS end | RSS peak 1st / 2nd half (limit) | RSS slope ± se | heap peak | heap floor slope ± se | GC pause max (ms) | loop delay p99 max (ms) |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const memory: Record<
      string,
      {
        retainedStart: number;
        retainedEnd: number;
        retainedSlope: number;
        retainedSe: number;
        /** Retained-heap measurements in the second half (the slope's points). */
        retainedPoints: number;
        rssFirstPeak: number;
        rssSecondPeak: number;
        rssLimit: number;
        rssBounded: boolean;
        rssSlope: number;
        rssSe: number;
        heapFloorSlope: number;
        heapFloorSe: number;
        gcMaxMs: number;
        rssPeak: number;
      }
    > = {};
    for (const p of procs) {
      const inRun = samples.filter((s) => s.t >= main_.from && s.t <= main_.to && s.procs[p.name]);
      if (inRun.length === 0) continue;
      const second = inRun.filter((s) => s.t >= half);
      const rss = second.map((s) => [minutes(s.t), s.procs[p.name].rss / MiB] as const);
      const heapPts = second
        .filter((s) => s.procs[p.name].heapUsed !== null)
        .map((s) => [minutes(s.t), s.procs[p.name].heapUsed! / MiB] as const);
      const retained = distinctByTime(
        inRun
          .map((s) => s.procs[p.name])
          .filter((x) => x.retained !== null && x.retainedT !== null)
          .filter((x) => x.retainedT! >= main_.from && x.retainedT! <= main_.to)
          .map((x) => [x.retainedT!, x.retained! / MiB] as const),
      ).map(([t, y]) => [minutes(t), y] as [number, number]);
      const retainedSecond = retained.filter(([x]) => x >= minutes(half));
      const retainedFit = leastSquaresFit(retainedSecond);
      const highWater = rssHighWater(
        inRun.map((s) => [minutes(s.t), s.procs[p.name].rss / MiB] as const),
        minutes(half),
      );
      const first = inRun[0].procs[p.name];
      const last = inRun[inRun.length - 1].procs[p.name];
      const rssPeak = Math.max(...inRun.map((s) => s.procs[p.name].rss)) / MiB;
      const heapPeak = Math.max(...inRun.map((s) => s.procs[p.name].heapUsed ?? 0)) / MiB;
      const loopMax = Math.max(...inRun.map((s) => s.procs[p.name].loopP99Ms ?? 0));
      const rssFit = leastSquaresFit(rss);
      const floorFit = leastSquaresFit(floorSeries(heapPts, 0.5));
      const r = {
        retainedStart: retained[0]?.[1] ?? NaN,
        retainedEnd: retained[retained.length - 1]?.[1] ?? NaN,
        retainedSlope: retainedFit.slope,
        retainedSe: retainedFit.se,
        retainedPoints: retainedSecond.length,
        rssFirstPeak: highWater.firstPeak,
        rssSecondPeak: highWater.secondPeak,
        rssLimit: highWater.limit,
        rssBounded: highWater.ok,
        rssSlope: rssFit.slope,
        rssSe: rssFit.se,
        heapFloorSlope: floorFit.slope,
        heapFloorSe: floorFit.se,
        gcMaxMs: Math.max(...inRun.map((s) => s.procs[p.name].gcMs ?? -Infinity)),
        rssPeak,
      };
      memory[p.name] = r;
      const rssCols =
        `${fmt(first.rss / MiB)} | ${fmt(last.rss / MiB)} | ${fmt(r.rssFirstPeak)} / ${fmt(r.rssSecondPeak)} (${fmt(r.rssLimit)}) | ` +
        `${fmt(r.rssSlope, 2)} ± ${fmt(r.rssSe, 2)}`;
      console.log(
        p.node
          ? `| ${p.name} | ${fmt(r.retainedStart)} | ${fmt(r.retainedEnd)} | ${fmt(r.retainedSlope, 2)} ± ${fmt(r.retainedSe, 2)} | ${rssCols} | ` +
              `${fmt(heapPeak)} | ${fmt(r.heapFloorSlope, 2)} ± ${fmt(r.heapFloorSe, 2)} | ${fmt(r.gcMaxMs)} | ${fmt(loopMax)} |`
          : `| ${p.name} | — | — | — | ${rssCols} | — | — | — | — |`,
      );
    }
    const apiMs = samples.filter((s) => s.t >= main_.from && s.t <= main_.to).map((s) => s.apiHealthMs);
    console.log(`api /health while loaded: max ${fmt(Math.max(...apiMs))} ms over ${apiMs.length} calls`);
    const lost = ledger.acked - ledger.stored;
    console.log(
      `\nledger: load ${fmt(ledger.messages)} messages / ${fmt(ledger.acked)} readings acknowledged, ${fmt(ledger.stored)} stored, ${fmt(lost)} lost, ` +
        `${fmt(loadTotals)} publishes refused, ${fmt(notAcknowledged)} readings never acknowledged (not counted as lost), ` +
        `publisher connections lost ${fmt(connectionsLost)}; plant ${fmt(plantTally.published)} acknowledged, ${fmt(plantTally.stored)} stored, ` +
        `${fmt(plantTally.lost)} lost, ${fmt(plantTally.duplicated)} duplicated (readings' primary key makes duplicates impossible)`,
    );
    console.log(`process exits: ${exits.length}${exits.length ? `\n  ${exits.join('\n  ')}` : ''}`);
    console.log(`warnings/errors logged by the apps: ${warningCount}${out ? ` (all in ${out}.apps.log)` : ''}`);
    // Every twin instance alive in the lease table (heartbeat) and how many partitions it holds.
    const twins = await q<{ instance: string; age_s: number; partitions: number }>(
      `SELECT i.instance, extract(epoch FROM now() - i.seen_at)::float8 AS age_s,
              (SELECT count(*)::int FROM twin_partition_leases l WHERE l.owner = i.instance AND l.expires_at > now()) AS partitions
       FROM twin_instances i ORDER BY 1`,
    );
    console.log(
      `twin instances: ${twins.map((t) => `${t.instance} ${t.partitions} partitions, heartbeat ${fmt(t.age_s)} s ago`).join('; ')}`,
    );

    // --- verdict ----------------------------------------------------------------------------------
    const checks: [string, boolean][] = [
      ['no process exited', exits.length === 0],
      ['every acknowledged reading stored (lost 0)', lost === 0 && plantTally.lost === 0],
      ['no duplicated reading', plantTally.duplicated === 0],
    ];
    checks.push([
      `every twin instance heartbeating (last heartbeat < 30 s ago: ${twins.map((t) => `${t.instance} ${fmt(t.age_s)} s`).join(', ')})`,
      twins.length === env('SOAK_TWIN', 2) && twins.every((t) => t.age_s < 30),
    ]);
    const apps = Object.keys(memory).filter((n) => n !== 'mosquitto');
    if (MODE === 'soak') {
      // Leak: the retained heap grows, or RSS keeps setting new high-water marks (see docs/reliability.md).
      for (const n of apps) {
        const m = memory[n];
        checks.push([
          `${n}: no leak (retained heap slope ${fmt(m.retainedSlope, 2)} ± ${fmt(m.retainedSe, 2)} MiB/min over ${m.retainedPoints} ` +
            `measurements < ${SLOPE_BOUND}; RSS peak of the second half ${fmt(m.rssSecondPeak)} MiB <= ${fmt(m.rssLimit)}, ` +
            `the first half's ${fmt(m.rssFirstPeak)} + max(${RSS_MARGIN.fraction * 100}%, ${RSS_MARGIN.minMiB} MiB))`,
          m.retainedSlope < SLOPE_BOUND && m.rssBounded,
        ]);
      }
      const soakMin = perMinute.filter((m) => m.minute >= 1 && m.minute < SOAK_MINUTES);
      const thirds = Math.max(1, Math.floor(soakMin.length / 3));
      const mean = (xs: typeof soakMin) => xs.reduce((a, m) => a + m.p99, 0) / Math.max(1, xs.length);
      const early = mean(soakMin.slice(0, thirds));
      const late = mean(soakMin.slice(-thirds));
      checks.push([
        `latency stable: p99 over the last third ${fmt(late)} ms <= 1.5 x the first third (after the first minute) ${fmt(early)} ms + 50 ms`,
        soakMin.length > 0 && late <= 1.5 * early + 50,
      ]);
      const end = samples.filter((s) => s.t <= windows[0].to).pop();
      checks.push([
        `kept up: backlog at the end of the soak ${fmt(end?.backlog ?? NaN)} readings + ${fmt(end?.pending ?? NaN)} on the devices <= 2 s of load`,
        (end?.backlog ?? Infinity) + (end?.pending ?? Infinity) <= 2 * soakRate,
      ]);
    } else {
      const over = windows.find((w) => w.name.startsWith('overload'))!;
      const overSamples = samples.filter((s) => s.t >= over.from && s.t <= over.to);
      const [o0, o1] = [overSamples[0], overSamples[overSamples.length - 1]];
      const per = (k: 'offered' | 'sent' | 'acked') => (o1[k] - o0[k]) / ((o1.t - o0.t) / 1000);
      const [offered, sent, admitted] = [per('offered'), per('sent'), per('acked')];
      checks.push([
        `overload reached: offered ${fmt(offered)} readings/s >= 1.5 x capacity (${fmt(1.5 * capacity)}): sent ${fmt(sent)}/s, ` +
          `refused by the publishers' full buffers ${fmt(offered - sent)}/s; the broker acknowledged ${fmt(admitted)}/s`,
        offered >= 1.5 * capacity,
      ]);
      // Bounded memory: the apps do not take in the backlog (it waits in the broker and on the
      // devices). RSS is a high-water mark, so "bounded" is the soak's test applied to the overload:
      // the peak of its second half at most that of its first half + max(10%, 16 MiB). A process that
      // buffered the excess would keep setting new peaks for as long as the overload lasts.
      for (const n of apps) {
        const pts = overSamples
          .filter((s) => s.procs[n])
          .map((s) => [(s.t - over.from) / 60_000, s.procs[n].rss / MiB] as const);
        const hw = rssHighWater(pts, (over.to - over.from) / 2 / 60_000);
        checks.push([
          `${n}: bounded under overload (RSS peak of its second half ${fmt(hw.secondPeak)} MiB <= ${fmt(hw.limit)}, the first half's ` +
            `${fmt(hw.firstPeak)} + max(${RSS_MARGIN.fraction * 100}%, ${RSS_MARGIN.minMiB} MiB); slope over the second half ` +
            `${fmt(slope(pts.filter(([x]) => x >= (over.to - over.from) / 2 / 60_000)), 1)} MiB/min, information)`,
          hw.ok,
        ]);
      }
      checks.push([`recovered: backlog drained ${fmt(recoveryS)} s after the overload`, Number.isFinite(recoveryS)]);
      const baseW = windows.find((w) => w.name === 'base 50%')!;
      const afterW = windows.find((w) => w.name === 'after 50%')!;
      const base = await latency(baseW.from, baseW.to);
      const after = await latency(afterW.to - 60_000, afterW.to);
      checks.push([
        `latency back after recovery: p99 of the last minute ${fmt(after.p99)} ms <= 2 x the 50% minute before the overload ${fmt(base.p99)} ms + 100 ms`,
        after.n > 0 && after.p99 <= 2 * base.p99 + 100,
      ]);
    }
    console.log('\ncriteria:');
    for (const [what, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${what}`);
    const pass = checks.every(([, ok]) => ok);
    console.log(
      `\n${MODE}: ${pass ? 'PASS' : 'FAIL'} (${((Date.now() - started) / 60_000).toFixed(1)} min, run ended ${new Date(runEnd).toISOString()}, load average ${load()})`,
    );
    if (out)
      writeFileSync(
        out,
        JSON.stringify(
          {
            mode: MODE,
            capacity,
            capacityNote,
            soakRate,
            windows,
            perMinute,
            memory,
            ledger,
            plantTally,
            exits,
            recoveryS,
            checks,
            pass,
          },
          null,
          2,
        ),
      );
    await db.end();
    process.exitCode = pass ? 0 : 1;
  } finally {
    await load_?.stop().catch(() => undefined);
    await cleanup();
  }
}

main().then(
  () => process.exit(),
  (err: Error) => {
    console.error(`${MODE}: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
