import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../scripts/cluster/cluster';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A private PostgreSQL cluster (initdb + pg_ctl from PG_BIN, default /usr/lib/postgresql/15/bin) in a
 * temporary directory on a free port, so that the fault suite can really restart the database: the
 * shared CI PostgreSQL on :5432 serves every other test file at the same time and must not be
 * restarted. PostgreSQL refuses to run as root; as root the cluster is owned by and run as the
 * `postgres` system user (runuser).
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly asUser: string | null,
    private readonly durable: boolean,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static available(): boolean {
    return existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));
  }

  /**
   * `durable: false` (the default, the fault suite) runs with `fsync=off`: faster, and a killed
   * server still recovers from the WAL in the operating system's cache, which is all the suite's
   * faults need (none crashes the machine). `durable: true` (the soak) keeps `fsync=on`, as a
   * production server runs: with fsync off PostgreSQL never asks the kernel to write its pages back,
   * the machine's dirty page cache grows by gigabytes over minutes of heavy ingestion, and every
   * other process's fsync on the same disk — Mosquitto's autosave every 30 s, in its only thread —
   * then waits for all of it (docs/reliability.md, session 5).
   */
  static async start(options: { durable?: boolean } = {}): Promise<PrivatePostgres> {
    if (!PrivatePostgres.available()) throw new Error(`no PostgreSQL binaries in ${BIN} (set PG_BIN)`);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'continuum-faults-pg-'));
    const asUser = userInfo().uid === 0 ? 'postgres' : null;
    if (asUser) {
      const id = spawnSync('id', ['-u', asUser], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', asUser], { encoding: 'utf8' });
      chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
    }
    const pg = new PrivatePostgres(port, dir, asUser, options.durable ?? false);
    await pg.run('initdb', ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await pg.startServer();
    return pg;
  }

  /** The server's log (pg_ctl -l): slow statements, auto_explain plans, autovacuum, where configured. */
  get logFile(): string {
    return join(this.dir, 'log');
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Runs a PostgreSQL tool (as the `postgres` user when root); asynchronous, so that the test
   * process (publisher, proxy) keeps running meanwhile. */
  private run(tool: string, args: string[]): Promise<void> {
    const cmd = join(BIN, tool);
    const [file, argv] = this.asUser ? ['runuser', ['-u', this.asUser, '--', cmd, ...args]] : [cmd, args];
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${tool} ${args.join(' ')} failed: ${output}`)),
      );
    });
  }

  /**
   * Starts the server and waits until it accepts connections. `PG_EXTRA_OPTS` adds server options
   * (e.g. `-c autovacuum=off`: how the soak found autovacuum behind its latency collapse, docs/reliability.md).
   */
  async startServer(): Promise<void> {
    const extra = process.env.PG_EXTRA_OPTS ? ` ${process.env.PG_EXTRA_OPTS}` : '';
    const fsync = this.durable ? '' : ' -c fsync=off';
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir}${fsync} -c max_connections=200${extra}`;
    await this.run('pg_ctl', ['-D', this.dataDir, '-o', opts, '-l', this.logFile, '-w', '-t', '60', 'start']);
  }

  /** Stops the server: `fast` (clients disconnected, clean shutdown) or `immediate` (crash recovery at the next start). */
  stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Stops the server, waits `downMs`, and starts it again on the same port and data. */
  async restart(downMs: number, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stopServer(mode);
    await new Promise((r) => setTimeout(r, downMs));
    await this.startServer();
  }

  async close(): Promise<void> {
    await this.stopServer('immediate').catch(() => undefined); // already stopped
    rmSync(this.dir, { recursive: true, force: true });
  }
}
