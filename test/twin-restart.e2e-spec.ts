import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { InternalEvent, telemetryTopic, twinMessageSchema, twinTopic, type TwinMessage } from '@continuum/contracts';
import { loadConfig } from '@continuum/config';
import { EmbeddedBroker, MqttConnection } from '@continuum/messaging';
import { disposeTwinModel, loadTwinModelFromDirectory, ModelBank, type TwinModel } from '@continuum/neural';
import { initTensorBackend } from '@continuum/ode';
import {
  createTestDatabase,
  Database,
  MachinesRepository,
  ReadingsRepository,
  type TestDatabase,
} from '@continuum/persistence';
import { uniqueId, waitFor } from '@continuum/runtime';
import { CentrifugalPumpModel } from '../apps/simulator/src/models/centrifugal-pump.model';
import { DEFAULT_BEHAVIOUR, SimulatedMachine, type Sample } from '../apps/simulator/src/plant/machine';
import { Rng } from '../apps/simulator/src/random/rng';

/**
 * Crash test (issue 9): the twin as a child process, killed with SIGKILL while readings flow, then a
 * new instance started on the same database. It must:
 * - find every machine's checkpoint no older than TWIN_CHECKPOINT_INTERVAL_MS (plus delivery slack)
 *   before the kill: every update published earlier than that is in the checkpoint;
 * - take over the dead instance's partition leases (it never released them);
 * - continue every twin from its checkpoint: the first update after the restart counts on from the
 *   checkpoint's updates, advances from its time, and predicts what the checkpointed state predicts
 *   (recomputed here with the same model, solver and state), not what a fresh twin would.
 *
 * Deployments:
 * - external (DATABASE_URL): `dist/apps/twin/src/main.js` (npm run start:twin) alone on PostgreSQL;
 *   this test stores the readings and announces them with ReadingsStored, as ingestion does. Brokers:
 *   aedes in this test process, and MQTT_URL (Mosquitto in CI) when set; on a shared broker the plant,
 *   machines, instances and client ids are unique to the test.
 * - embedded: `dist/apps/platform/src/main.js` (npm start) on PGlite and its own aedes; readings are
 *   published as telemetry and ingested by the platform. The database is read by this test only while
 *   no platform runs (a PGlite directory belongs to one process), so lease takeover is read from the
 *   platform's log there.
 */
const root = join(__dirname, '..');
const modelsDir = join(root, 'models/default');

type Deployment = 'external, aedes broker' | 'external, MQTT_URL broker' | 'embedded (PGlite, aedes)';
const deployments: Deployment[] = ['embedded (PGlite, aedes)'];
if (process.env.DATABASE_URL) deployments.push('external, aedes broker');
if (process.env.DATABASE_URL && process.env.MQTT_URL) deployments.push('external, MQTT_URL broker');

const CHECKPOINT_MS = 1000;
const LEASE_TTL_MS = 3000;
const LEASE_RENEW_MS = 250;
const PARTITIONS = 8;
const MACHINES = 4;
/** Slack for the MQTT delivery of a twin message and the checkpoint's own write. */
const SLACK_MS = 2000;
const T0 = Date.UTC(2026, 0, 1);
/** A simulated sample's time (simulated seconds) as a reading time (epoch ms, as stored). */
const timeOf = (s: Sample) => T0 + Math.round(s.t * 1000);

/** A twin child process; any probe fails at once (with its output) if it exited unasked. */
class TwinChild {
  readonly child: ChildProcess;
  output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private killed = false;

  constructor(
    readonly embedded: boolean,
    env: Record<string, string>,
  ) {
    const main = embedded ? 'dist/apps/platform/src/main.js' : 'dist/apps/twin/src/main.js';
    this.child = spawn(process.execPath, [join(root, main)], {
      cwd: root,
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.child.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  check(): void {
    if (this.exit !== null && !this.killed)
      throw new Error(`twin exited unexpectedly (${JSON.stringify(this.exit)}):\n${this.output.slice(-4000)}`);
  }

  /** Twins restored from checkpoints so far ("restored X of Y twins" log lines). */
  get restored(): number {
    return [...this.output.matchAll(/restored (\d+) of \d+ twins/g)].reduce((n, m) => n + Number(m[1]), 0);
  }

  /** Partitions held ("(N in all)" in the last partition log line). */
  get partitionsHeld(): number {
    const all = [...this.output.matchAll(/\((\d+) in all\)/g)];
    return all.length === 0 ? 0 : Number(all[all.length - 1][1]);
  }

  /** The embedded broker's URL. */
  get brokerUrl(): string {
    const port = /broker embedded on :(\d+)/.exec(this.output)?.[1];
    if (!port) throw new Error(`no embedded broker in the output:\n${this.output.slice(-2000)}`);
    return `mqtt://127.0.0.1:${port}`;
  }

  async started(): Promise<void> {
    await waitFor(
      () => {
        this.check();
        return (this.embedded ? /platform started/ : /twin started/).test(this.output) ? true : undefined;
      },
      90_000,
      'the twin to start',
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
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-needed'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}, 180_000);

describe.each(deployments)('twin process killed with SIGKILL and restarted (%s)', (deployment) => {
  const embedded = deployment.startsWith('embedded');
  let database: TestDatabase;
  /** The test's own connection to the database (external only; embedded: see {@link withDatabase}). */
  let db: Database | null = null;
  let broker: EmbeddedBroker | null = null;
  let conn: MqttConnection | null = null;
  /** The broker the twin and this test use (external; embedded: the platform's own). */
  let brokerUrl = '';
  let model: TwinModel;
  const children: TwinChild[] = [];
  const prefix = `twin-restart-${uniqueId()}`;
  const plantId = `plant-${uniqueId()}`;
  const ids = Array.from({ length: MACHINES }, (_, i) => `pump-${uniqueId()}-${i}`);
  /** Every twin message of this test's machines, with the wall-clock time it arrived. */
  const received: { at: number; message: TwinMessage }[] = [];

  /** Runs `fn` on the database: the test's connection, or (embedded) PGlite opened for the call. */
  async function withDatabase<T>(fn: (d: Database) => Promise<T>): Promise<T> {
    if (db) return fn(db);
    const d = await Database.open(database.config);
    try {
      return await fn(d);
    } finally {
      await d.close();
    }
  }

  /** Connects the test to a broker and listens to the machines' twin topics. */
  async function connect(url: string): Promise<void> {
    await conn?.close();
    brokerUrl = url;
    conn = await MqttConnection.open({ url, clientId: `${prefix}-test-${uniqueId()}` });
    conn.client.on('message', (_topic, payload) => {
      const message = twinMessageSchema.parse(JSON.parse(payload.toString()));
      if (ids.includes(message.machineId)) received.push({ at: Date.now(), message });
    });
    await conn.subscribe(
      ids.map((id) => twinTopic(plantId, id)),
      1,
    );
  }

  beforeAll(async () => {
    await initTensorBackend({ backend: 'wasm', log: () => undefined });
    model = loadTwinModelFromDirectory(join(modelsDir, 'centrifugal-pump'), 'centrifugal-pump');
    database = await createTestDatabase(embedded ? 'embedded' : 'external');
    if (!embedded) db = await Database.open(database.config);
    await withDatabase(async (d) => {
      const machines = new MachinesRepository(d.dataSource);
      for (const id of ids)
        await machines.insert({
          id,
          plantId,
          assetType: 'centrifugal-pump',
          sensors: model.sensors.map((name) => ({ name })),
        });
    });
    if (deployment === 'external, aedes broker') {
      broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
      await connect(broker.url);
    } else if (deployment === 'external, MQTT_URL broker') await connect(process.env.MQTT_URL!);
  }, 120_000);

  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    await conn?.close();
    await db?.close();
    await broker?.close();
    await database?.drop();
    if (model) disposeTwinModel(model);
  });

  it('restores every twin from its last checkpoint and takes the dead instance’s partitions over', async () => {
    const env = (instance: string): Record<string, string> => ({
      ...(embedded
        ? {
            DATABASE_DIR: (database.config as { dataDir: string }).dataDir,
            MQTT_PORT: '0',
            SIMULATOR_ENABLED: 'false',
            INGESTION_INSTANCE: instance,
            INGESTION_SHARE_GROUP: `${prefix}-${instance}`,
          }
        : { DATABASE_URL: (database.config as { url: string }).url, MQTT_URL: brokerUrl }),
      MQTT_CLIENT_ID: `${prefix}-${instance}`,
      TWIN_INSTANCE: `${prefix}-${instance}`,
      TWIN_MODELS_DIR: modelsDir,
      TWIN_CHECKPOINT_INTERVAL_MS: String(CHECKPOINT_MS),
      TWIN_LEASE_TTL_MS: String(LEASE_TTL_MS),
      TWIN_LEASE_RENEW_MS: String(LEASE_RENEW_MS),
      TWIN_PARTITIONS: String(PARTITIONS),
      TWIN_FORECAST_INTERVAL_MS: '0',
    });
    const start = async (instance: string) => {
      const child = new TwinChild(embedded, env(instance));
      children.push(child);
      await child.started();
      if (embedded) await connect(child.brokerUrl);
      return child;
    };
    /** Waits until `child` holds every partition: lease rows (external) or its log (embedded). */
    const holdsAll = async (child: TwinChild, instance: string, what: string) =>
      waitFor(
        async () => {
          child.check();
          if (embedded) return child.partitionsHeld === PARTITIONS ? true : undefined;
          const held: { owner: string; n: number }[] = await db!.dataSource.query(
            `SELECT owner, count(*)::int AS n FROM twin_partition_leases WHERE expires_at > now() GROUP BY owner`,
          );
          return held.length === 1 && held[0].owner === `${prefix}-${instance}` && held[0].n === PARTITIONS
            ? true
            : undefined;
        },
        120_000,
        what,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; its output:\n${child.output.slice(-3000)}`);
      });

    // Simulated pumps (the simulator's physics): each machine's samples, one sensor or more each.
    const rng = new Rng(17);
    const streams = ids.map((id) => {
      const m = new SimulatedMachine(id, new CentrifugalPumpModel(), rng.fork(id), DEFAULT_BEHAVIOUR);
      return m.advance(6 * 3600).samples;
    });
    let next = 0;
    /**
     * Every machine's next sample: published as telemetry (embedded: the platform ingests it), or
     * stored and announced with ReadingsStored as ingestion does (external: the twin runs alone).
     */
    const feed = async (): Promise<Map<string, Sample>> => {
      const batch = new Map(ids.map((id, i) => [id, streams[i][next]] as const));
      next++;
      if (embedded) {
        await Promise.all(
          [...batch].map(([id, s]) =>
            conn!.publish(telemetryTopic(plantId, id), JSON.stringify({ ts: timeOf(s), values: s.values })),
          ),
        );
        return batch;
      }
      const rows = [...batch].flatMap(([id, s]) =>
        Object.entries(s.values).map(([sensor, value]) => ({ machineId: id, sensor, time: timeOf(s), value })),
      );
      await new ReadingsRepository(db!.dataSource).insertMany(rows);
      const event = {
        machines: [...batch].map(([id, s]) => ({
          machineId: id,
          plantId,
          from: timeOf(s),
          to: timeOf(s),
          count: Object.keys(s.values).length,
        })),
        committedAt: Date.now(),
      };
      await conn!.publish(InternalEvent.ReadingsStored, JSON.stringify(event), { qos: 1 });
      return batch;
    };

    // 1. The first instance takes every partition and twins every machine while readings flow.
    const a = await start('a');
    await holdsAll(a, 'a', 'instance a to hold every partition');
    const flowing = async (until: () => boolean, what: string) => {
      const deadline = Date.now() + 120_000;
      while (!until()) {
        a.check();
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await feed();
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Long enough for several checkpoints after every machine has been twinned.
    let allSeenAt = Infinity;
    await flowing(() => {
      if (allSeenAt === Infinity && ids.every((id) => received.some((r) => r.message.machineId === id)))
        allSeenAt = Date.now();
      return Date.now() > allSeenAt + 6 * CHECKPOINT_MS;
    }, 'twin messages for every machine');
    // Killed in the middle of the flow: readings were sent up to the kill.
    await feed();
    const killedAt = Date.now();
    await a.kill('SIGKILL');
    expect(a.exit?.signal).toBe('SIGKILL');
    expect(a.output).not.toMatch(/shutting down/);
    const beforeKill = received.filter((r) => r.at <= killedAt);
    expect(Math.max(...beforeKill.map((r) => r.at))).toBeGreaterThan(killedAt - 2000);
    // What the dead instance left in the database (embedded: PGlite reopened after the SIGKILL).
    type CheckpointRow = {
      machine_id: string;
      t: number;
      updates: number;
      step_size: number | null;
      state: { h: number[]; latentVar: number[] };
    };
    const { left, rows } = await withDatabase(async (d) => ({
      left: (await d.dataSource.query(
        `SELECT owner, count(*)::int AS n FROM twin_partition_leases GROUP BY owner`,
      )) as { owner: string; n: number }[],
      rows: (await d.dataSource.query(
        `SELECT machine_id, (extract(epoch FROM time) * 1000)::float8 AS t, updates, state, step_size
         FROM twin_states WHERE machine_id = ANY($1)`,
        [ids],
      )) as CheckpointRow[],
    }));
    // The dead instance never released its leases: every partition is still in its name.
    expect(left).toEqual([{ owner: `${prefix}-a`, n: PARTITIONS }]);

    // 2. The checkpoints it left: every update published more than the checkpoint interval (plus
    // slack) before the kill is in them.
    const checkpoints = new Map(rows.map((r) => [r.machine_id, r]));
    expect([...checkpoints.keys()].sort()).toEqual([...ids].sort());
    const report: string[] = [];
    for (const id of ids) {
      const cp = checkpoints.get(id)!;
      const mine = beforeKill.filter((r) => r.message.machineId === id);
      const last = mine[mine.length - 1].message;
      const covered = mine.filter((r) => r.at <= killedAt - CHECKPOINT_MS - SLACK_MS).map((r) => r.message);
      expect(covered.length).toBeGreaterThan(0);
      expect(cp.t).toBeGreaterThanOrEqual(covered[covered.length - 1].ts);
      expect(cp.updates).toBeGreaterThanOrEqual(covered[covered.length - 1].latent!.updates);
      expect(cp.updates).toBeLessThanOrEqual(last.latent!.updates);
      // The checkpoint is a real state: the one the twin had after that many updates.
      const atCheckpoint = mine.find((r) => r.message.latent!.updates === cp.updates)?.message;
      if (atCheckpoint) expect(atCheckpoint.ts).toBe(cp.t);
      const firstLost = mine.find((r) => r.message.latent!.updates === cp.updates + 1);
      report.push(
        `${id}: ${last.latent!.updates} updates published before the kill, ${cp.updates} checkpointed` +
          (firstLost ? ` (the first one lost published ${killedAt - firstLost.at} ms before the kill)` : ''),
      );
    }

    // 3. A new instance takes the partitions over (once the dead instance's leases expire).
    const restartAt = Date.now();
    const b = await start('b');
    const startedAt = Date.now();
    await holdsAll(b, 'b', 'instance b to take every partition over');
    const takeoverMs = Date.now() - startedAt;
    await waitFor(() => (b.check(), b.restored >= MACHINES ? true : undefined), 30_000, 'the checkpoints restored');
    expect(b.restored).toBe(MACHINES);
    report.push(
      `all ${PARTITIONS} partitions held by the new instance ${takeoverMs} ms after it started (start took ${startedAt - restartAt} ms; lease TTL ${LEASE_TTL_MS} ms, renewal ${LEASE_RENEW_MS} ms)`,
    );

    // 4. The next reading of every machine continues its twin from the checkpoint.
    const fromCheckpoint = new ModelBank(model, { ...loadConfig({}).twin.solver, maxSteps: 1000 });
    const fresh = new ModelBank(model, { ...loadConfig({}).twin.solver, maxSteps: 1000 });
    try {
      fromCheckpoint.restore(
        rows.map((r) => ({
          machineId: r.machine_id,
          h: r.state.h,
          latentVar: r.state.latentVar,
          timeMs: r.t,
          stepUnits: Number(r.step_size ?? 0),
          updates: r.updates,
        })),
      );
      const since = received.length;
      const batch = await feed();
      await waitFor(
        () => {
          b.check();
          const after = received.slice(since).map((r) => r.message);
          return ids.every((id) => after.some((m) => m.machineId === id)) ? true : undefined;
        },
        60_000,
        'the restarted twin to publish for every machine',
      );
      const after = received.slice(since).map((r) => r.message);
      const D = model.sensors.length;
      // The reference: the same reading applied to the checkpointed state, and to a fresh twin.
      const input = () => {
        const values = new Float64Array(MACHINES * D);
        const mask = new Float32Array(MACHINES * D);
        ids.forEach((id, i) =>
          model.sensors.forEach((name, d) => {
            const v = batch.get(id)!.values[name];
            if (v !== undefined) {
              values[i * D + d] = v;
              mask[i * D + d] = 1;
            }
          }),
        );
        return { values, mask, timesMs: Float64Array.from(ids, (id) => timeOf(batch.get(id)!)) };
      };
      const expected = fromCheckpoint.step({
        slots: Int32Array.from(ids, (id) => fromCheckpoint.slot(id)),
        ...input(),
      });
      const zero = fresh.step({ slots: Int32Array.from(ids, (id) => fresh.slot(id)), ...input() });
      let worst = 0;
      let freshDistance = 0;
      ids.forEach((id, i) => {
        const m = after.find((x) => x.machineId === id)!;
        const cp = checkpoints.get(id)!;
        expect(m.latent!.updates).toBe(cp.updates + 1);
        expect(m.ts).toBe(timeOf(batch.get(id)!));
        expect(m.ts).toBeGreaterThan(cp.t);
        expect(m.nfe).toBeGreaterThan(0); // advanced from the checkpoint's time, not started at the reading
        model.sensors.forEach((name, d) => {
          const p = m.prediction[name];
          const k = i * D + d;
          // Same state, model and solver settings; the adaptive solve of a batch differs from the
          // reference's by the solver tolerance (rtol 1e-3 on a state of order 1): 2% of a std.
          const off = Math.abs(p.mean - expected.mean[k]) / expected.std[k];
          worst = Math.max(worst, off);
          expect(off).toBeLessThan(0.02);
          expect(Math.abs(p.std - expected.std[k]) / expected.std[k]).toBeLessThan(0.02);
          freshDistance += Math.abs(p.mean - zero.mean[k]) / expected.std[k] / (MACHINES * D);
        });
      });
      // The comparison can tell a restored twin from a fresh one: a fresh twin predicts elsewhere
      // (on average over machines and sensors, 50 times the tolerance above).
      expect(freshDistance).toBeGreaterThan(1);
      report.push(
        `after the restart: largest prediction offset from the checkpoint reference ${worst.toExponential(1)} std; a fresh twin's predictions ${freshDistance.toFixed(1)} std away on average`,
      );
    } finally {
      fromCheckpoint.dispose();
      fresh.dispose();
    }
    console.log(report.join('\n'));
    await b.kill('SIGTERM');
  }, 420_000);
});
