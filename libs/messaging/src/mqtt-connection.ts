import { Logger } from '@nestjs/common';
import mqtt, {
  UniqueMessageIdProvider,
  type IClientOptions,
  type IConnackPacket,
  type IClientPublishOptions,
  type ISubscriptionGrant,
  type MqttClient,
  type Packet,
} from 'mqtt';

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM CA certificate(s) trusted for `mqtts://`/`wss://`, besides the system's. */
  ca?: Buffer | string;
  /** false keeps the session (and QoS 1 messages queued for it) across reconnects. */
  clean?: boolean;
  /**
   * MQTT versions to try, in order: a broker that refuses one (CONNACK "unsupported protocol
   * version", as aedes does for MQTT 5) is tried with the next. Default `[4]` (MQTT 3.1.1).
   */
  protocolVersions?: readonly (4 | 5)[];
  /** MQTT 5 CONNECT properties (Receive Maximum, Session Expiry Interval...), sent only when connecting with MQTT 5. */
  properties?: IClientOptions['properties'];
  /** The will the broker publishes when the connection drops uncleanly (a Sparkplug NDEATH). */
  will?: IClientOptions['will'];
  /** First reconnect delay; doubled on each failure up to `maxReconnectMs`. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
  /** How long `open` waits for the first connection (all versions together). */
  connectTimeoutMs?: number;
  /** Take over acknowledgement of received QoS 1 messages (see mqtt.js `customHandleAcks`). */
  customHandleAcks?: IClientOptions['customHandleAcks'];
  /**
   * Replaces mqtt.js's `handleMessage` hook before the client connects, so that even messages a
   * persistent session delivers right after CONNACK go through it. mqtt.js reads no further
   * packet until its callback is called (backpressure); for QoS 1 it sends PUBACK when the
   * callback is called without an error. The hook gets the client as its third argument: a
   * broker delivers a persistent session's queued messages right after CONNACK, before `open`
   * has resolved (mqtt.js emits `connect` only once its outgoing store is replayed).
   */
  handleMessage?: (packet: Packet, callback: (error?: Error) => void, client: MqttClient) => void;
}

/**
 * An MQTT client (mqtt.js) that survives broker loss: it reconnects with exponential backoff,
 * keeps QoS 1 publishes made while offline in its outgoing store and sends them on reconnect,
 * subscribes again after every reconnect, and reports whether it is connected (for health checks).
 *
 * Subscriptions are this class's, not mqtt.js's (`resubscribe: false`): after each reconnect it
 * sends SUBSCRIBE for every filter it was asked for, whether or not the broker reports "session
 * present". A persistent session restored by a broker is not proof that its subscriptions were:
 * Mosquitto 2.0 saves a session's ordinary subscriptions in its persistence file but not its
 * shared (`$share/...`) ones, and after its restart resumes the session without them. mqtt.js
 * itself subscribes again only when the session is gone, and its `subscribe` silently skips a
 * filter it already holds at that QoS, so asking it again does nothing. Subscribing to a filter
 * the session has replaces the subscription; messages queued for the session stay.
 */
export class MqttConnection {
  private readonly logger: Logger;
  private reconnectMs: number;
  /** Filters asked for with `subscribe`, and their QoS: sent again after every reconnect. */
  private readonly subscriptions = new Map<string, 0 | 1>();
  /** Filters the broker granted on the current network connection (`grantedOn`). */
  private granted = new Set<string>();
  private grantedOn: unknown = null;
  /** PUBACK reason code 0x10 ("No matching subscribers") by packet id, until the publish's callback reads it. */
  private readonly noSubscribers = new Set<number>();
  /** Whether the broker resumed a session at the last CONNACK (always false with `clean`). */
  sessionPresent: boolean;

  private constructor(
    readonly client: MqttClient,
    /** The MQTT version of the connection: 4 (3.1.1) or 5. */
    readonly protocolVersion: 4 | 5,
    private readonly options: MqttConnectionOptions,
    connack: IConnackPacket,
  ) {
    this.logger = new Logger(`Mqtt:${options.clientId}`);
    this.reconnectMs = options.minReconnectMs ?? 500;
    this.sessionPresent = connack.sessionPresent;
    client.on('connect', (connack) => {
      this.sessionPresent = connack.sessionPresent;
      this.reconnectMs = options.minReconnectMs ?? 500;
      client.options.reconnectPeriod = this.reconnectMs;
      const reconnected =
        `reconnected to ${redactUrl(options.url)}` +
        (options.clean === false ? ` (session present: ${connack.sessionPresent})` : '');
      const filters = [...this.subscriptions.keys()];
      if (filters.length === 0) {
        this.logger.log(reconnected);
        return;
      }
      const byQos = ([0, 1] as const).map((qos) => filters.filter((f) => this.subscriptions.get(f) === qos));
      Promise.all(byQos.map((again, qos) => (again.length ? this.send(again, qos as 0 | 1) : null))).then(
        () => this.logger.log(`${reconnected}; subscribed again to ${filters.join(', ')}`),
        (err: Error) => this.logger.warn(`${reconnected}; could not subscribe again: ${err.message}`),
      );
    });
    // mqtt.js resolves a publish acknowledged with a success reason code (< 0x80) with the PUBLISH
    // packet it stored, not the PUBACK: the reason code is only seen here, just before the callback.
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback' && packet.reasonCode === NO_MATCHING_SUBSCRIBERS && packet.messageId !== undefined)
        this.noSubscribers.add(packet.messageId);
    });
    client.on('reconnect', () => this.logger.log(`reconnecting to ${redactUrl(options.url)}`));
    client.on('close', () => {
      // Exponential backoff: mqtt.js reads reconnectPeriod before scheduling each attempt.
      this.reconnectMs = Math.min(this.reconnectMs * 2, options.maxReconnectMs ?? 30_000);
      client.options.reconnectPeriod = this.reconnectMs;
    });
    client.on('offline', () => this.logger.warn(`broker ${redactUrl(options.url)} unreachable; reconnecting`));
    client.on('error', (err) => this.logger.warn(`MQTT error: ${err.message}`));
  }

  /**
   * Connects, with each of `protocolVersions` in turn where the broker refuses one; resolves once
   * connected, rejects with a clear message if that takes longer than `connectTimeoutMs`.
   */
  static async open(options: MqttConnectionOptions): Promise<MqttConnection> {
    const timeoutMs = options.connectTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    const versions = options.protocolVersions ?? [4];
    for (const [i, version] of versions.entries()) {
      const connected = await MqttConnection.connect(options, version, deadline, timeoutMs, i < versions.length - 1);
      if (connected !== 'unsupported') return new MqttConnection(connected.client, version, options, connected.connack);
    }
    throw new Error(
      `the MQTT broker at ${redactUrl(options.url)} refused MQTT ${versions.map((v) => (v === 5 ? '5' : '3.1.1')).join(' and ')}`,
    );
  }

  private static async connect(
    options: MqttConnectionOptions,
    protocolVersion: 4 | 5,
    deadline: number,
    timeoutMs: number,
    fallback: boolean,
  ): Promise<{ client: MqttClient; connack: IConnackPacket } | 'unsupported'> {
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      clean: options.clean ?? true,
      protocolVersion,
      ...(protocolVersion === 5 && options.properties && { properties: options.properties }),
      reconnectPeriod: options.minReconnectMs ?? 500,
      connectTimeout: 10_000,
      queueQoSZero: false,
      // Subscriptions are sent again by MqttConnection after every reconnect (see the class).
      resubscribe: false,
      // A refused CONNACK ("server unavailable" while the broker's credential store starts, a
      // rotated password) is retried with backoff instead of leaving the process offline for good.
      reconnectOnConnackError: true,
      customHandleAcks: options.customHandleAcks,
      // Packet ids are 16 bits. mqtt.js's default provider hands them out round-robin without
      // looking at those in flight: the 65,536th unacknowledged QoS 1 publish (a burst, or what
      // piles up offline during a long broker outage) reuses the id of the first, and the first's
      // acknowledgement callback is lost for good. This one hands out free ids only and queues
      // publishes inside mqtt.js while all 65,535 are taken.
      messageIdProvider: new UniqueMessageIdProvider(),
      ...(options.will && { will: options.will }),
      ...(options.ca && { ca: options.ca }),
    });
    const { handleMessage } = options;
    if (handleMessage) client.handleMessage = (packet, callback) => handleMessage(packet, callback, client);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        client.off('error', onError);
        client.off('connect', onConnect);
      };
      const timer = setTimeout(
        () => {
          done();
          client.end(true);
          reject(new Error(`could not connect to the MQTT broker at ${redactUrl(options.url)} within ${timeoutMs} ms`));
        },
        Math.max(0, deadline - Date.now()),
      );
      const onConnect = (connack: IConnackPacket) => {
        done();
        resolve({ client, connack });
      };
      // Errors that a retry cannot fix (an untrusted certificate, refused credentials) fail at once;
      // an unreachable broker is retried until the timeout (it may still be starting).
      const onError = (err: Error & { code?: string | number }) => {
        if (TRANSIENT.has(err.code ?? '') || err.message === 'connack timeout') return;
        done();
        // MQTT 3.1.1 CONNACK 1 and MQTT 5 reason 132: unsupported protocol version.
        if (fallback && (err.code === 1 || err.code === 132)) {
          client.end(true, () => resolve('unsupported'));
          return;
        }
        client.end(true);
        reject(new Error(`could not connect to the MQTT broker at ${redactUrl(options.url)}: ${err.message}`));
      };
      client.on('error', onError);
      client.on('connect', onConnect);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connected, and every filter asked for with `subscribe` granted on this connection (not just on an earlier one). */
  get subscribed(): boolean {
    return (
      this.client.connected &&
      this.grantedOn === this.client.stream &&
      [...this.subscriptions.keys()].every((f) => this.granted.has(f))
    );
  }

  /** Publishes (QoS 1 by default); resolves when the broker acknowledged it. */
  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = { qos: 1 }): Promise<void> {
    await this.client.publishAsync(topic, payload, options);
  }

  /**
   * Publishes and resolves with the PUBACK's reason code: 0 (success; always for MQTT 3.1.1 and
   * QoS 0), or 0x10 `NO_MATCHING_SUBSCRIBERS`: an MQTT 5 broker accepted the message but nobody
   * was subscribed to its topic, so it was dropped (Mosquitto 2.0 does this right after a restart,
   * until shared subscriptions are made again). Rejects on a reason code >= 0x80.
   */
  async publishForReason(
    topic: string,
    payload: string | Buffer,
    options: IClientPublishOptions = { qos: 1 },
  ): Promise<number> {
    return new Promise((resolve, reject) =>
      this.client.publish(topic, payload, options, (err, packet) => {
        if (err) return reject(err);
        const id = packet?.messageId;
        resolve(id !== undefined && this.noSubscribers.delete(id) ? NO_MATCHING_SUBSCRIBERS : 0);
      }),
    );
  }

  /**
   * Subscribes, and subscribes again after every reconnect (see the class). Rejects when the broker
   * refuses a filter (SUBACK 0x80 in MQTT 3.1.1, a reason code >= 0x80 in MQTT 5).
   */
  async subscribe(filter: string | string[], qos: 0 | 1 = 1): Promise<ISubscriptionGrant[]> {
    const filters = Array.isArray(filter) ? filter : [filter];
    for (const f of filters) this.subscriptions.set(f, qos);
    return this.send(filters, qos).catch((err: Error) => {
      if (err instanceof RefusedSubscription) for (const f of err.filters) this.subscriptions.delete(f);
      throw err;
    });
  }

  private async send(filters: string[], qos: 0 | 1): Promise<ISubscriptionGrant[]> {
    const stream: unknown = this.client.stream;
    const grants = await this.client.subscribeAsync(filters, { qos });
    // mqtt.js answers a subscribe it did not send with no grants; with `resubscribe: false` it sends every one.
    if (grants.length !== filters.length)
      throw new Error(`SUBACK for ${grants.length} of ${filters.length} filters (${filters.join(', ')})`);
    const refused = grants.filter((g) => g.qos >= 128);
    if (refused.length) throw new RefusedSubscription(refused.map((g) => g.topic));
    if (stream === this.client.stream) {
      if (this.grantedOn !== stream) this.granted = new Set();
      this.grantedOn = stream;
      for (const f of filters) this.granted.add(f);
    }
    return grants;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** MQTT 5 PUBACK reason code 0x10: accepted, but no subscription matched (the message went nowhere). */
export const NO_MATCHING_SUBSCRIBERS = 0x10;

class RefusedSubscription extends Error {
  constructor(readonly filters: string[]) {
    super(`the broker refused the subscription to ${filters.join(', ')}`);
  }
}

/**
 * Errors of a broker that is down, restarting or busy: `open` keeps retrying through them. Socket
 * codes, and CONNACK codes 3 (MQTT 3.1.1 "server unavailable"), 0x88 and 0x89 (MQTT 5 "server
 * unavailable", "server busy").
 */
const TRANSIENT = new Set<string | number>([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  3,
  0x88,
  0x89,
]);

/** A broker URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
