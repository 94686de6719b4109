import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Aedes, AuthenticateError, Client } from 'aedes' with { 'resolution-mode': 'import' };

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  host?: string;
  /**
   * Decides whether a client may connect. Absent: every client may (embedded development mode).
   * Device credentials plug in here (API issue).
   */
  authenticate?: (
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ) => boolean | Promise<boolean>;
  /**
   * Decides whether a client may publish on a topic (absent: every client may). `username` is the
   * one it connected with. A refused publish is dropped and the client disconnected (MQTT 3.1.1).
   */
  authorizePublish?: (clientId: string, username: string | undefined, topic: string) => boolean | Promise<boolean>;
  /** Decides whether a client may subscribe to a filter (absent: every client may); refused: granted QoS 128. */
  authorizeSubscribe?: (clientId: string, username: string | undefined, filter: string) => boolean | Promise<boolean>;
}

/** The username a client connected with (aedes does not keep it). */
const usernames = new WeakMap<Client, string | undefined>();

/**
 * The in-process MQTT broker of embedded mode: aedes on a TCP port. aedes has no queue cap, so a
 * slow QoS 1 subscriber slows publishers down instead of losing messages.
 */
export class EmbeddedBroker {
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
  ) {}

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    // aedes 1.x is an ES module: load it with a real dynamic import.
    const { Aedes } = await import('aedes');
    const { authenticate, authorizePublish, authorizeSubscribe } = options;
    const aedes = await Aedes.createBroker({
      id: 'continuum-embedded',
      ...(authenticate && {
        authenticate: (client, username, password, done) => {
          Promise.resolve(authenticate(client.id, username, password)).then(
            (ok) => {
              usernames.set(client, username);
              if (ok) return done(null, true);
              const err = new Error('bad username or password') as AuthenticateError;
              err.returnCode = 4;
              done(err, false);
            },
            (err: Error) => done(Object.assign(err, { returnCode: 3 }) as AuthenticateError, false),
          );
        },
      }),
      ...(authorizePublish && {
        authorizePublish: (client, packet, done) => {
          if (!client) return done(null);
          Promise.resolve(authorizePublish(client.id, usernames.get(client), packet.topic)).then(
            (ok) => done(ok ? null : new Error(`not allowed to publish on ${packet.topic}`)),
            (err: Error) => done(err),
          );
        },
      }),
      ...(authorizeSubscribe && {
        authorizeSubscribe: (client, subscription, done) => {
          if (!client) return done(null, subscription);
          Promise.resolve(authorizeSubscribe(client.id, usernames.get(client), subscription.topic)).then(
            (ok) => done(null, ok ? subscription : null),
            (err: Error) => done(err, null),
          );
        },
      }),
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        aedes.close();
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(
                `MQTT port ${options.port} is already in use (set MQTT_PORT to a free port, or MQTT_URL to use an external broker)`,
              )
            : err,
        );
      });
      server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
    });
    return new EmbeddedBroker(aedes, server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** URL for clients in this process and on this machine. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
