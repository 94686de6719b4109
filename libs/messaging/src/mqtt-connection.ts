import { Logger } from '@nestjs/common';
import mqtt, {
  type IClientOptions,
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
  protocolVersion?: 4 | 5;
  /** First reconnect delay; doubled on each failure up to `maxReconnectMs`. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
  /** How long `open` waits for the first connection. */
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
 * and reports whether it is connected (for health checks).
 */
export class MqttConnection {
  private readonly logger: Logger;
  private reconnectMs: number;
  private everConnected = false;

  private constructor(
    readonly client: MqttClient,
    private readonly options: MqttConnectionOptions,
  ) {
    this.logger = new Logger(`Mqtt:${options.clientId}`);
    this.reconnectMs = options.minReconnectMs ?? 500;
    client.on('connect', () => {
      if (this.everConnected) this.logger.log(`reconnected to ${redactUrl(options.url)}`);
      this.everConnected = true;
      this.reconnectMs = options.minReconnectMs ?? 500;
      client.options.reconnectPeriod = this.reconnectMs;
    });
    client.on('close', () => {
      // Exponential backoff: mqtt.js reads reconnectPeriod before scheduling each attempt.
      this.reconnectMs = Math.min(this.reconnectMs * 2, options.maxReconnectMs ?? 30_000);
      client.options.reconnectPeriod = this.reconnectMs;
    });
    // Before the first connection `open` reports failure itself; after it, outages are warnings.
    client.on(
      'offline',
      () => this.everConnected && this.logger.warn(`broker ${redactUrl(options.url)} unreachable; reconnecting`),
    );
    client.on('error', (err) => this.everConnected && this.logger.warn(`MQTT error: ${err.message}`));
  }

  /** Connects; resolves once connected, rejects with a clear message if that takes too long. */
  static async open(options: MqttConnectionOptions): Promise<MqttConnection> {
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      clean: options.clean ?? true,
      protocolVersion: options.protocolVersion ?? 4,
      reconnectPeriod: options.minReconnectMs ?? 500,
      connectTimeout: 10_000,
      queueQoSZero: false,
      // A refused CONNACK ("server unavailable" while the broker's credential store starts, a
      // rotated password) is retried with backoff instead of leaving the process offline for good.
      reconnectOnConnackError: true,
      customHandleAcks: options.customHandleAcks,
      ...(options.ca && { ca: options.ca }),
    });
    const { handleMessage } = options;
    if (handleMessage) client.handleMessage = (packet, callback) => handleMessage(packet, callback, client);
    const connection = new MqttConnection(client, options);
    const timeoutMs = options.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end(true);
        reject(new Error(`could not connect to the MQTT broker at ${redactUrl(options.url)} within ${timeoutMs} ms`));
      }, timeoutMs);
      // Errors that a retry cannot fix (an untrusted certificate, refused credentials) fail at once;
      // an unreachable broker is retried until the timeout (it may still be starting).
      const onError = (err: Error & { code?: string | number }) => {
        if (TRANSIENT.has(err.code ?? '') || err.message === 'connack timeout') return;
        clearTimeout(timer);
        client.end(true);
        reject(new Error(`could not connect to the MQTT broker at ${redactUrl(options.url)}: ${err.message}`));
      };
      client.on('error', onError);
      client.once('connect', () => {
        clearTimeout(timer);
        client.off('error', onError);
        resolve();
      });
    });
    return connection;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Publishes (QoS 1 by default); resolves when the broker acknowledged it. */
  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = { qos: 1 }): Promise<void> {
    await this.client.publishAsync(topic, payload, options);
  }

  async subscribe(filter: string | string[], qos: 0 | 1 = 1): Promise<ISubscriptionGrant[]> {
    const grants = await this.client.subscribeAsync(filter, { qos });
    const refused = grants.filter((g) => g.qos === 128);
    if (refused.length)
      throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
    return grants;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
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
