import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../scripts/cluster/cluster';

/**
 * A private Mosquitto for the fault suite, with the repository's configuration
 * (deploy/mosquitto/mosquitto.conf: unlimited queues, persistence on) adapted to a free port on
 * 127.0.0.1 and a temporary persistence directory, so that it can be restarted (and its sessions and
 * queued messages survive, as they must in production) without disturbing the shared CI broker.
 */
export class PrivateMosquitto {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly conf: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The broker's process id while it runs (the soak samples its memory). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(root: string): Promise<PrivateMosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'continuum-faults-mosquitto-'));
    chmodSync(dir, 0o777); // Mosquitto drops root privileges to its own user
    const shipped = readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const adapted = shipped
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`);
    if (!adapted.includes(`listener ${port}`) || !adapted.includes(dir))
      throw new Error('deploy/mosquitto/mosquitto.conf changed: listener or persistence_location not found');
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, adapted);
    const broker = new PrivateMosquitto(port, dir, conf);
    await broker.launch();
    return broker;
  }

  private async launch(): Promise<void> {
    this.child = spawn('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`mosquitto did not start on ${this.port}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops it: SIGTERM saves the persistence file (sessions, queued QoS 1 messages) first. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.child = null;
  }

  /** Stops it cleanly and starts it again on the same port with the same persistence file. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
