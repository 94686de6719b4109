import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy the fault suite puts between the apps and PostgreSQL (node:net, no dependencies).
 *
 * - `cut()`: every open connection is reset and new ones are refused (reset at once) until `restore()`:
 *   the database is unreachable, as when a link or a firewall drops it.
 * - `stall()`: open connections stay open but nothing is forwarded in either direction, and new
 *   connections are accepted but get no answer, until `restore()`, which forwards what waited: a
 *   network stall (packets delayed, no error seen by either side).
 * - `blackhole()`: the connections open now go silent for ever (what either side sends is dropped, no
 *   error, no close); new connections are forwarded as usual: a peer that vanished without a trace.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; silent?: boolean }>();
  private mode: 'pass' | 'cut' | 'stall' = 'pass';
  private readonly held: (() => void)[] = [];
  port = 0;
  /** Connections accepted (and forwarded or held) since the proxy started. */
  connections = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    this.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: { client: Socket; upstream: Socket; silent?: boolean } = { client, upstream };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (pair.silent) return;
        if (this.mode === 'stall') {
          from.pause();
          this.held.push(() => {
            to.write(chunk);
            from.resume();
          });
        } else if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    forward(client, upstream);
    forward(upstream, client);
  }

  /** Resets every open connection and refuses new ones. */
  cut(): void {
    this.mode = 'cut';
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Silences the open connections for ever (see the class); new ones pass. */
  blackhole(): void {
    for (const pair of this.pairs) pair.silent = true;
  }

  /** Holds all traffic: connections stay open, nothing moves. */
  stall(): void {
    this.mode = 'stall';
  }

  /** Back to forwarding; held traffic is delivered in order. */
  restore(): void {
    this.mode = 'pass';
    for (const release of this.held.splice(0)) release();
  }

  async close(): Promise<void> {
    this.restore();
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
