import { Logger } from '@nestjs/common';
import { redactUrl } from '@continuum/messaging';
import mqtt, { type ISubscriptionGrant, type MqttClient, type Packet } from 'mqtt';

export interface ConsumerSessionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM CA certificate(s) trusted for `mqtts://`/`wss://`, besides the system's. */
  ca?: Buffer | string;
  /** Replaces mqtt.js's `handleMessage` hook before the client connects (see {@link ConsumerSession}). */
  handleMessage: (packet: Packet, callback: (error?: Error) => void, client: MqttClient) => void;
  /** How long `open` waits for the first connection. */
  connectTimeoutMs?: number;
  /** MQTT versions to try, in order: by default 5, then 3.1.1 where the broker refuses 5. */
  versions?: readonly (4 | 5)[];
}

/**
 * MQTT 5 Receive Maximum asked of the broker: how many QoS 1 messages it may send before their
 * PUBACKs. Ingestion acknowledges a message only once its batch is committed, so this window
 * must hold several batches; the in-memory queue bound (INGESTION_QUEUE_MAX_ROWS, enforced by
 * not reading the socket) limits memory, not this. 65,535 is the protocol's maximum.
 */
export const RECEIVE_MAXIMUM = 65_535;

/** MQTT 5 session expiry: the broker keeps the session and its queue this long after a disconnect (7 days). */
export const SESSION_EXPIRY_S = 7 * 86_400;

/**
 * Ingestion's persistent MQTT session with the broker (mqtt.js): clean start off, so the broker
 * queues QoS 1 telemetry while ingestion is down or slow.
 *
 * It speaks MQTT 5 where the broker does, because only MQTT 5 lets a client raise the broker's
 * window of unacknowledged messages (Receive Maximum): an MQTT 3.1.1 client gets the broker's
 * own limit — Mosquitto's `max_inflight_messages`, 20 by default — and with acknowledgements
 * sent after commit that caps ingestion at 20 messages per batch. Brokers without MQTT 5 (aedes)
 * refuse the protocol version; the session then connects with MQTT 3.1.1 (aedes has no such
 * window). In MQTT 5 the session's life is the Session Expiry Interval ({@link SESSION_EXPIRY_S}).
 *
 * `handleMessage` is installed before connecting, so that even the messages a broker replays
 * right after CONNACK go through it; mqtt.js reads no further packet until its callback runs.
 * After the first connection mqtt.js reconnects by itself, with a delay doubling from 500 ms to 30 s.
 */
export class ConsumerSession {
  private readonly logger: Logger;
  private reconnectMs = MIN_RECONNECT_MS;

  private constructor(
    readonly client: MqttClient,
    readonly protocolVersion: 4 | 5,
    options: ConsumerSessionOptions,
  ) {
    this.logger = new Logger(`Mqtt:${options.clientId}`);
    client.on('connect', () => {
      this.reconnectMs = MIN_RECONNECT_MS;
      client.options.reconnectPeriod = this.reconnectMs;
    });
    client.on('reconnect', () => this.logger.log(`reconnecting to ${redactUrl(options.url)}`));
    client.on('close', () => {
      this.reconnectMs = Math.min(this.reconnectMs * 2, MAX_RECONNECT_MS);
      client.options.reconnectPeriod = this.reconnectMs;
    });
    client.on('offline', () => this.logger.warn(`broker ${redactUrl(options.url)} unreachable; reconnecting`));
    client.on('error', (err) => this.logger.warn(`MQTT error: ${err.message}`));
  }

  /** Connects with MQTT 5, or with MQTT 3.1.1 where the broker refuses MQTT 5; rejects after the timeout. */
  static async open(options: ConsumerSessionOptions): Promise<ConsumerSession> {
    const deadline = Date.now() + (options.connectTimeoutMs ?? 15_000);
    const versions = options.versions ?? [5, 4];
    for (const version of versions) {
      const client = await ConsumerSession.connect(options, version, deadline);
      if (client !== 'unsupported') return new ConsumerSession(client, version, options);
    }
    throw new Error(`the MQTT broker at ${redactUrl(options.url)} refused MQTT ${versions.join(' and ')}`);
  }

  private static async connect(
    options: ConsumerSessionOptions,
    protocolVersion: 4 | 5,
    deadline: number,
  ): Promise<MqttClient | 'unsupported'> {
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      clean: false,
      protocolVersion,
      ...(protocolVersion === 5 && {
        properties: { receiveMaximum: RECEIVE_MAXIMUM, sessionExpiryInterval: SESSION_EXPIRY_S },
      }),
      reconnectPeriod: MIN_RECONNECT_MS,
      connectTimeout: 10_000,
      queueQoSZero: false,
      ...(options.ca && { ca: options.ca }),
    });
    client.handleMessage = (packet, callback) => options.handleMessage(packet, callback, client);
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
          reject(new Error(`could not connect to the MQTT broker at ${redactUrl(options.url)} within the timeout`));
        },
        Math.max(0, deadline - Date.now()),
      );
      const onConnect = () => {
        done();
        resolve(client);
      };
      const onError = (err: Error & { code?: string | number }) => {
        // MQTT 3.1.1 CONNACK 1 and MQTT 5 reason 132: unsupported protocol version.
        if (err.code === 1 || err.code === 132) {
          done();
          client.end(true, () => resolve('unsupported'));
        }
        // Anything else (broker not up yet): mqtt.js retries until the timeout.
      };
      client.on('error', onError);
      client.on('connect', onConnect);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async subscribe(filters: string[], qos: 0 | 1): Promise<ISubscriptionGrant[]> {
    const grants = await this.client.subscribeAsync(filters, { qos });
    // 0x80 (MQTT 3.1.1) and reason codes >= 0x80 (MQTT 5) refuse a subscription.
    const refused = grants.filter((g) => g.qos >= 128);
    if (refused.length)
      throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
    return grants;
  }

  async publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

const MIN_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30_000;
