import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '@continuum/persistence';
import { uniqueId, waitFor } from '@continuum/runtime';
import { Instance, freePort } from '../../scripts/cluster/cluster';
import { formatTable, storedReadings, tally, type FaultRow } from './support/ledger';
import { LoggingPublisher } from './support/logging-publisher';

/**
 * Disk full on the embedded database directory (issue 13), `npm run test:faults`: the whole platform
 * in one process (`npm start`: PGlite+TimescaleDB in DATABASE_DIR, aedes in-process) with its data
 * directory on a small filesystem of its own, which the test fills to the last byte while a plant
 * publishes QoS 1 telemetry, holds full for 15 s, and frees again.
 *
 * The disk is really full (writes fail with ENOSPC in the kernel), not simulated: the filesystem is
 * a 128 MiB tmpfs the test mounts (root, or CAP_SYS_ADMIN, as in CI), or any small filesystem given
 * as FAULTS_DISK_DIR (a directory the test may fill; it removes only what it wrote).
 */
const root = join(__dirname, '..', '..');
const SPEED = 600;
const HOLD_FULL_MS = 15_000;

function mountTmpfs(): { dir: string; unmount: () => void } {
  if (process.env.FAULTS_DISK_DIR) return { dir: process.env.FAULTS_DISK_DIR, unmount: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'continuum-faults-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `cannot mount a tmpfs for the disk-full fault (${(r.stderr || r.stdout).trim()}): run as root, or set FAULTS_DISK_DIR to a small filesystem`,
    );
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `path` in 1 MiB blocks, then smaller ones, until the filesystem refuses (ENOSPC). */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 512, 1]) {
      const block = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, block);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('fault injection: disk full on the embedded database directory', () => {
  let disk: { dir: string; unmount: () => void };
  let platform: Instance;
  let publisher: LoggingPublisher;
  const logs: string[] = [];
  const filler = () => join(disk.dir, `filler-${process.pid}`);

  beforeAll(async () => {
    disk = mountTmpfs();
    const dataDir = join(disk.dir, `db-${uniqueId()}`);
    mkdirSync(dataDir);
    const [port, mqttPort] = [await freePort(), await freePort()];
    platform = new Instance(
      'platform',
      1,
      port,
      {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        DATABASE_DIR: dataDir,
        MQTT_PORT: String(mqttPort),
        SIMULATOR_ENABLED: 'false',
        TWIN_FORECAST_INTERVAL_MS: '0',
        TWIN_MODELS_DIR: join(root, 'models/default'),
        INGESTION_RETRY_MAX_MS: '1000',
      },
      [],
      root,
      (line) => {
        logs.push(line);
        if (logs.length > 2000) logs.splice(0, 500);
      },
      180_000,
    );
    await platform.start();
    publisher = new LoggingPublisher({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      clientId: `disk-full-${uniqueId()}`,
      plantId: `disk-${uniqueId()}`,
      machines: 3,
      speed: SPEED,
      startMs: Date.now() - 7 * 86_400_000,
    });
  }, 300_000);

  afterAll(async () => {
    await publisher?.stop(2000).catch(() => undefined);
    await platform?.kill('SIGKILL');
    try {
      unlinkSync(filler());
    } catch {
      // not there
    }
    disk?.unmount();
  }, 60_000);

  it('stores every acknowledged reading once the disk has room again, without a restart', async () => {
    const explain = (err: unknown): never => {
      throw new Error(`${(err as Error).message}\n--- platform log ---\n${logs.slice(-60).join('\n')}`);
    };
    await publisher.start();
    const healthy = () => platform.health();
    await new Promise((r) => setTimeout(r, 5000));
    const logsBefore = logs.length;
    const filled = fillDisk(filler());
    expect(filled).toBeGreaterThan(0);
    // What the platform says while the disk is full: health every second, and its log.
    const statuses = new Map<number | null, number>();
    for (const end = Date.now() + HOLD_FULL_MS; Date.now() < end;) {
      const s = await healthy();
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const fullErrors = logs
      .slice(logsBefore)
      .filter((l) => /ENOSPC|no space left|could not (extend|write)|write failed/i.test(l)).length;
    const whileFull = [...statuses].map(([s, n]) => `${n}x ${s}`).join(', ');
    platform.check(); // still running: a full disk must not take the process (and its broker) down
    unlinkSync(filler());
    const freedAt = Date.now();
    await waitFor(async () => ((await healthy()) === 200 ? true : undefined), 120_000, 'health 200 again').catch(
      explain,
    );
    await new Promise((r) => setTimeout(r, 3000));
    await publisher.stop();
    // Everything acknowledged is written once the batches in flight commit; a clean stop writes the
    // last batch and flushes PGlite.
    await new Promise((r) => setTimeout(r, 3000));
    const recoveryS = (Date.now() - freedAt) / 1000;
    platform.check();
    await platform.kill('SIGTERM');

    const db = await Database.open({
      mode: 'embedded',
      dataDir: platform.env.DATABASE_DIR,
      migrationsRun: false,
      logQueries: false,
      readings: { compressAfterDays: 7, retentionDays: 0 },
      embeddedJobsIntervalMs: 60_000,
    });
    try {
      const stored = await storedReadings(
        (sql, p) => db.dataSource.query(sql, p),
        publisher.machines.map((m) => m.machineId),
      );
      const t = tally(publisher.acked.keys(), stored);
      const row: FaultRow = {
        fault: `disk full on the embedded database directory, ${HOLD_FULL_MS / 1000} s (tmpfs filled to ENOSPC)`,
        ...t,
        recoveryS,
        notes: `health while full: ${whileFull}; ${fullErrors} disk errors logged`,
      };
      console.log(`fault injection results:\n${formatTable([row])}`);
      expect(t.published).toBeGreaterThan(0);
      expect(t.lost).toBe(0);
      expect(t.duplicated).toBe(0);
    } finally {
      await db.close();
    }
  }, 300_000);
});
