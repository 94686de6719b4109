import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * The local cluster harness (issue 13): every app as its own child process (the compiled
 * `dist/apps/<app>/...` entry points that `npm run start:<app>` runs) against one external
 * PostgreSQL (`databaseUrl`) and one MQTT broker (`mqttUrl`). Used by `npm run cluster` and by the
 * fault-injection suite (test/faults), which kills, restarts and inspects single instances.
 *
 * Every instance gets its own identity: ingestion `INGESTION_INSTANCE=<n>` (persistent session
 * `<prefix>-ingestion-<n>`, kept across restarts) in the shared subscription group `<prefix>`, twin
 * `TWIN_INSTANCE=<prefix>-twin-<n>` (partition leases), its own HTTP `PORT` where the app serves one,
 * and `MQTT_CLIENT_ID=<prefix>`. Migrations run once, before any app starts; the apps then start with
 * `DATABASE_MIGRATIONS_RUN=false`, so that concurrent starts do not race on the schema.
 */
export type AppName = 'api' | 'ingestion' | 'twin' | 'alerting' | 'training' | 'simulator' | 'platform';

/**
 * The apps a cluster runs, in start order: the api first (it serves the dashboard), the simulator last
 * (something must listen). `platform` (everything in one process, embedded mode) is not one of them;
 * tests run it alone as an {@link Instance}.
 */
export type ClusterApp = Exclude<AppName, 'platform'>;
export const APP_NAMES: readonly ClusterApp[] = ['api', 'ingestion', 'twin', 'alerting', 'training', 'simulator'];

export const DEFAULT_SIMULATOR_ARGS = ['--machines', '20', '--start', '-1h', '--speed', '60', '--catch-up'];

interface AppSpec {
  /** Entry point under the repository root. */
  main: string;
  /** Serves HTTP /health on PORT. */
  http: boolean;
  /** Log line that says the process is up (for apps without HTTP). */
  ready: RegExp;
}

const APPS: Record<AppName, AppSpec> = {
  api: { main: 'dist/apps/api/src/main.js', http: true, ready: /api started/ },
  ingestion: { main: 'dist/apps/ingestion/src/main.js', http: true, ready: /ingestion started/ },
  twin: { main: 'dist/apps/twin/src/main.js', http: true, ready: /twin started/ },
  alerting: { main: 'dist/apps/alerting/src/main.js', http: true, ready: /alerting started/ },
  training: { main: 'dist/apps/training/src/main.js', http: false, ready: /training started/ },
  simulator: { main: 'dist/apps/simulator/src/cli.js', http: false, ready: /simulating \d+ machines/ },
  platform: { main: 'dist/apps/platform/src/main.js', http: true, ready: /platform started/ },
};

export interface ClusterOptions {
  /** Instances per app; apps left out (or 0) are not started. */
  counts: Partial<Record<ClusterApp, number>>;
  databaseUrl: string;
  mqttUrl: string;
  /** MQTT client id prefix, shared-subscription group and twin instance prefix. Default `cluster`. */
  prefix?: string;
  /** Environment for every instance (LOG_LEVEL, TWIN_* ...), on top of the harness's own. */
  env?: Record<string, string>;
  /** Environment of one instance, on top of `env`. */
  envFor?: (app: AppName, index: number) => Record<string, string>;
  /**
   * Arguments of the simulator CLI (`npm run simulate -- ...`). Default: 20 machines, starting an hour
   * ago at 60x until it has caught up with the clock (ingestion refuses readings more than
   * INGESTION_MAX_FUTURE_MS in the future, which an accelerated simulation starting now soon is).
   */
  simulatorArgs?: string[];
  /** Each output line of every instance, prefixed with its name. Default: written to stdout. */
  log?: (line: string) => void;
  /** Repository root. Default: two levels above this file. */
  root?: string;
  /** How long an instance may take to become healthy (ms). Default 120 s. */
  startTimeoutMs?: number;
}

/** Picks a free TCP port on 127.0.0.1 (the OS's choice for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs node with `args` in `root`; rejects with its output when it fails. Asynchronous, so that a
 * caller serving the child (a proxy in the same process) keeps serving. */
function runNode(root: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed: ${output}`))));
  });
}

/** Compiles apps/, libs/ and migrations/ to dist/ when a source is newer than the last build. */
export function buildIfNeeded(root: string): Promise<void> {
  return runNode(root, [join(root, 'scripts/build.mjs'), '--if-needed'], process.env, 'build');
}

/** Applies pending migrations once (`npm run migration:run`), before the apps start. */
export function migrate(root: string, databaseUrl: string): Promise<void> {
  return runNode(
    root,
    [join(root, 'dist/libs/persistence/src/cli.js'), 'run'],
    { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    'migrations',
  );
}

/** One app process of the cluster: started, killed and restarted with the same identity. */
export class Instance {
  /** `<app>-<index>`, the prefix of its log lines. */
  readonly name: string;
  private child: ChildProcess | null = null;
  private exitInfo: string | null = null;
  private expectedExit = false;
  /** The current run printed its start line. */
  private ready = false;
  private readonly tail: string[] = [];
  private waiters: { re: RegExp; resolve: () => void }[] = [];
  /** Times this instance was started. */
  starts = 0;

  constructor(
    readonly app: AppName,
    readonly index: number,
    /** HTTP port (apps with /health), otherwise null. */
    readonly port: number | null,
    readonly env: Record<string, string>,
    private readonly args: string[],
    private readonly root: string,
    private readonly log: (line: string) => void,
    private readonly startTimeoutMs: number,
  ) {
    this.name = `${app}-${index}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Running and not killed. */
  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  /** The last output lines (diagnostics). */
  output(lines = 60): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** Starts the process and waits until it is healthy (HTTP /health 200, or its start log line). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.exitInfo = null;
    this.expectedExit = false;
    this.ready = false;
    this.starts++;
    const child = spawn(process.execPath, [join(this.root, APPS[this.app].main), ...this.args], {
      cwd: this.root,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) this.line(line);
      });
      stream.on('end', () => partial && this.line(partial));
    };
    onData(child.stdout!);
    onData(child.stderr!);
    child.on('exit', (code, signal) => {
      this.exitInfo = `code ${code}, signal ${signal}`;
      if (!this.expectedExit) this.log(`[${this.name}] exited unexpectedly (${this.exitInfo})`);
    });
    await this.healthy();
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 400) this.tail.splice(0, this.tail.length - 400);
    this.log(`[${this.name}] ${line}`);
    if (APPS[this.app].ready.test(line)) this.ready = true;
    if (this.waiters.length === 0) return;
    const matched = this.waiters.filter((w) => w.re.test(line));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    matched.forEach((w) => w.resolve());
  }

  /** Resolves at the next output line matching `re` (seen from now on). */
  nextLine(re: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        re,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Throws (with its last output) if the process exited without being told to. */
  check(): void {
    if (this.exitInfo !== null && !this.expectedExit)
      throw new Error(`${this.name} exited unexpectedly (${this.exitInfo}):\n${this.output()}`);
  }

  /** Waits until /health answers 200 (HTTP apps) or the start line was printed. */
  async healthy(timeoutMs = this.startTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.check();
      if (this.exitInfo !== null) throw new Error(`${this.name} was stopped while starting`);
      if (APPS[this.app].http ? (await this.health()) === 200 : this.ready) return;
      if (Date.now() > deadline) throw new Error(`${this.name} not healthy within ${timeoutMs} ms:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** HTTP status of GET /health (0 when it does not answer); null for apps without HTTP. */
  async health(): Promise<number | null> {
    if (this.port === null) return null;
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/health`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Sends `signal` (default SIGKILL, i.e. kill -9) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 45_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo !== null) return;
    this.expectedExit = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills (default SIGKILL) and starts again with the same identity, port and environment. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    await this.start();
  }
}

/** A set of app instances on one database and one broker. */
export class Cluster {
  private stopping = false;

  private constructor(readonly instances: Instance[]) {}

  /** Builds if needed, migrates, then starts every instance in {@link APP_NAMES} order, healthy one by one. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = await Cluster.create(options);
    await cluster.startAll();
    return cluster;
  }

  /** Builds if needed, migrates and prepares the instances (ports, environments) without starting them. */
  static async create(options: ClusterOptions): Promise<Cluster> {
    const root = options.root ?? join(__dirname, '..', '..');
    const prefix = options.prefix ?? 'cluster';
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    await buildIfNeeded(root);
    await migrate(root, options.databaseUrl);
    const instances: Instance[] = [];
    for (const app of APP_NAMES) {
      const count = options.counts[app] ?? 0;
      for (let i = 1; i <= count; i++) {
        const port = APPS[app].http ? await freePort() : null;
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          LOG_LEVEL: 'info',
          DATABASE_URL: options.databaseUrl,
          MQTT_URL: options.mqttUrl,
          DATABASE_MIGRATIONS_RUN: 'false',
          MQTT_CLIENT_ID: prefix,
          INGESTION_INSTANCE: String(i),
          INGESTION_SHARE_GROUP: prefix,
          TWIN_INSTANCE: `${prefix}-twin-${i}`,
          PGAPPNAME: `${app}-${i}`,
          ...(port !== null && { PORT: String(port) }),
          ...options.env,
          ...options.envFor?.(app, i),
        };
        // Apps without HTTP say they are up only in their start line, logged at level info.
        if (!APPS[app].http && ['warn', 'error', 'fatal', 'silent'].includes(env.LOG_LEVEL)) env.LOG_LEVEL = 'info';
        const args =
          app === 'simulator'
            ? ['--mqtt-url', options.mqttUrl, ...(options.simulatorArgs ?? DEFAULT_SIMULATOR_ARGS)]
            : [];
        instances.push(new Instance(app, i, port, env, args, root, log, options.startTimeoutMs ?? 120_000));
      }
    }
    return new Cluster(instances);
  }

  /** Starts every instance not running yet, in order, each healthy before the next; on a failure stops them all. */
  async startAll(): Promise<void> {
    try {
      for (const instance of this.instances) if (!this.stopping && !instance.running) await instance.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The instance called `<app>-<index>` (e.g. `ingestion-2`). */
  get(name: string): Instance {
    const instance = this.instances.find((i) => i.name === name);
    if (!instance) throw new Error(`no instance ${name} (have ${this.instances.map((i) => i.name).join(', ')})`);
    return instance;
  }

  /** The instances of one app. */
  of(app: AppName): Instance[] {
    return this.instances.filter((i) => i.app === app);
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.get(name).kill(signal);
  }

  restart(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.get(name).restart(signal);
  }

  /** Throws if any instance exited without being told to. */
  check(): void {
    this.instances.forEach((i) => i.check());
  }

  /**
   * Stops every instance cleanly (SIGTERM: batches written, checkpoints saved, leases released), in
   * reverse start order so that producers stop before consumers; SIGKILL after `timeoutMs`.
   */
  async stop(timeoutMs = 40_000): Promise<void> {
    this.stopping = true;
    for (const instance of [...this.instances].reverse()) await instance.kill('SIGTERM', timeoutMs);
  }
}
