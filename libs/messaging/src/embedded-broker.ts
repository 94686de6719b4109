import { Logger } from '@nestjs/common';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import type { Aedes, AuthenticateError, Client } from 'aedes' with { 'resolution-mode': 'import' };
import { guardPacketSize } from './packet-size-guard';
import { PublishRateLimiter } from './publish-rate-limiter';

/** Why the embedded broker refused something (the `reason` label of `mqtt_broker_refusals_total`). */
export type BrokerRefusal =
  'bad-credentials' | 'publish-not-allowed' | 'subscribe-not-allowed' | 'rate-limited' | 'packet-too-large';

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  host?: string;
  /**
   * A second listener speaking MQTT over TLS (PEM certificate chain and key, already read: the
   * broker never sees the file names and logs neither).
   */
  tls?: { cert: Buffer; key: Buffer; port: number; host?: string };
  /** A client sending a larger packet (bytes, fixed header included) is disconnected. Absent: no limit. */
  maxPacketBytes?: number;
  /**
   * Per-device publish rate: `key` names the bucket of a client (its device), or null for a client
   * that is not limited (the platform's own). A publish over the rate is refused before it is
   * acknowledged and the client disconnected (MQTT 3.1.1 has no reason code for it; aedes speaks
   * no MQTT 5), so a QoS 1 client resends it after reconnecting: nothing acknowledged is lost.
   */
  publishLimit?: {
    perSecond: number;
    burst: number;
    key: (clientId: string, username: string | undefined) => string | null;
  };
  /** Registry for `mqtt_broker_refusals_total{reason}`. */
  metrics?: Registry;
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
 * The in-process MQTT broker of embedded mode: aedes on a TCP port, optionally also over TLS.
 * aedes has no queue cap, so a slow QoS 1 subscriber slows publishers down instead of losing
 * messages. Every refusal (credentials, topic, rate, packet size) is logged with the client and
 * counted; no secret is ever logged.
 */
export class EmbeddedBroker {
  private static readonly logger = new Logger('MqttBroker');

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly tlsServer: TlsServer | null,
  ) {}

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    // aedes 1.x is an ES module: load it with a real dynamic import.
    const { Aedes } = await import('aedes');
    const { authenticate, authorizePublish, authorizeSubscribe, publishLimit } = options;
    const refusals = options.metrics && refusalCounter(options.metrics);
    const refuse = (reason: BrokerRefusal, detail: string) => {
      refusals?.inc({ reason });
      EmbeddedBroker.logger.warn(`refused (${reason}): ${detail}`);
    };
    const who = (client: Client) => {
      const username = usernames.get(client);
      return `client ${client.id}${username !== undefined ? ` (user ${username})` : ''}`;
    };
    const rateLogged = new WeakSet<Client>();
    const limiter = publishLimit && new PublishRateLimiter(publishLimit.perSecond, publishLimit.burst);
    const aedes = await Aedes.createBroker({
      id: 'continuum-embedded',
      authenticate: (client, username, password, done) => {
        usernames.set(client, username);
        if (!authenticate) return done(null, true);
        Promise.resolve()
          .then(() => authenticate(client.id, username, password))
          .then(
            (ok) => {
              if (ok) return done(null, true);
              refuse('bad-credentials', `${who(client)}: bad username or password`);
              const err = new Error('bad username or password') as AuthenticateError;
              err.returnCode = 4;
              done(err, false);
            },
            (err: Error) => {
              EmbeddedBroker.logger.warn(
                `${who(client)}: authentication failed (${err.message}); answered "server unavailable"`,
              );
              done(Object.assign(err, { returnCode: 3 }) as AuthenticateError, false);
            },
          );
      },
      ...((authorizePublish || limiter) && {
        authorizePublish: (client, packet, done) => {
          if (!client) return done(null);
          const username = usernames.get(client);
          Promise.resolve()
            .then(() => (authorizePublish ? authorizePublish(client.id, username, packet.topic) : true))
            .then(
              (ok) => {
                if (!ok) {
                  refuse('publish-not-allowed', `${who(client)} may not publish on ${packet.topic}; disconnected`);
                  return done(new Error(`not allowed to publish on ${packet.topic}`));
                }
                const key = limiter && publishLimit.key(client.id, username);
                if (limiter && key !== null && key !== undefined && !limiter.take(key)) {
                  // The rest of the batch already read from this connection is refused too: log once.
                  if (rateLogged.has(client)) {
                    refusals?.inc({ reason: 'rate-limited' });
                    return done(new Error('message rate too high'));
                  }
                  rateLogged.add(client);
                  refuse(
                    'rate-limited',
                    `${who(client)} publishes faster than ${limiter.perSecond}/s (burst ${limiter.burst}); message on ${packet.topic} not acknowledged, disconnected`,
                  );
                  return done(new Error('message rate too high'));
                }
                done(null);
              },
              (err: Error) => done(err),
            );
        },
      }),
      ...(authorizeSubscribe && {
        authorizeSubscribe: (client, subscription, done) => {
          if (!client) return done(null, subscription);
          Promise.resolve()
            .then(() => authorizeSubscribe(client.id, usernames.get(client), subscription.topic))
            .then(
              (ok) => {
                if (!ok) refuse('subscribe-not-allowed', `${who(client)} may not subscribe to ${subscription.topic}`);
                done(null, ok ? subscription : null);
              },
              (err: Error) => done(err, null),
            );
        },
      }),
    });
    const { maxPacketBytes } = options;
    const handle = (socket: Socket) => {
      if (!maxPacketBytes) return aedes.handle(socket);
      const guarded: Socket & { client?: Client } = guardPacketSize(socket, maxPacketBytes, (v) =>
        refuse(
          'packet-too-large',
          `${guarded.client ? who(guarded.client) : `connection from ${socket.remoteAddress}`} sent ${
            v.kind === 'too-large'
              ? `a packet of ${v.bytes} bytes (limit ${maxPacketBytes})`
              : 'a malformed packet length'
          }; disconnected`,
        ),
      );
      return aedes.handle(guarded);
    };
    const opened: { close(cb: () => void): void }[] = [];
    try {
      const server = await listen(createServer(handle), options.port, options.host ?? '0.0.0.0', 'MQTT_PORT');
      opened.push(server);
      const tls = options.tls;
      const tlsServer = tls
        ? await listen(
            createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handle).on(
              'tlsClientError',
              (err) => EmbeddedBroker.logger.warn(`TLS handshake failed: ${err.message}`),
            ),
            tls.port,
            tls.host ?? options.host ?? '0.0.0.0',
            'MQTT_TLS_PORT',
          )
        : null;
      return new EmbeddedBroker(aedes, server, tlsServer);
    } catch (err) {
      for (const s of opened) await new Promise<void>((r) => s.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      throw err;
    }
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** URL for clients in this process and on this machine. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Port of the TLS listener, or null without one. */
  get tlsPort(): number | null {
    return this.tlsServer ? (this.tlsServer.address() as AddressInfo).port : null;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.tlsServer) await new Promise<void>((resolve) => this.tlsServer!.close(() => resolve()));
  }
}

async function listen<S extends Server>(server: S, port: number, host: string, variable: string): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `MQTT port ${port} is already in use (set ${variable} to a free port, or MQTT_URL to use an external broker)`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

function refusalCounter(registry: Registry): Counter<'reason'> {
  const existing = registry.getSingleMetric('mqtt_broker_refusals_total');
  if (existing) return existing as Counter<'reason'>;
  return new Counter({
    name: 'mqtt_broker_refusals_total',
    help: 'Embedded broker: connections, publishes and subscriptions refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
}
