import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { IngestionConfig } from '@continuum/config';
import { SPARKPLUG_FILTER, TELEMETRY_FILTER } from '@continuum/contracts';
import { MqttConnection, type MessagingOptions } from '@continuum/messaging';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { encodeRebirthCommand } from '../decoding/sparkplug.decoder';
import { INGESTION_CONFIG, IngestionService } from '../pipeline/ingestion.service';

export const INGESTION_MESSAGING = Symbol('INGESTION_MESSAGING');

/** Where ingestion subscribes and whether the broker is the embedded aedes (no shared subscriptions). */
export interface IngestionMessaging {
  options: MessagingOptions;
  embeddedBroker: boolean;
  /** MQTT versions to try, in order (default 5, then 3.1.1); `[4]` is the pre-MQTT-5 baseline of bench:ingest. */
  mqttVersions?: readonly (4 | 5)[];
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
 * Longest wait between reconnect attempts to a lost broker. Short, because with a shared
 * subscription on Mosquitto 2.0 every moment between the broker's restart and this consumer's
 * SUBSCRIBE is a moment in which device messages have no subscriber (see {@link MqttConnection}).
 */
const MAX_RECONNECT_MS = 1000;

/**
 * Device-facing MQTT consumer of ingestion: its own connection with a fixed client id
 * (`<MQTT_CLIENT_ID>-ingestion-<INGESTION_INSTANCE>`) and a persistent session (clean session
 * off, QoS 1), so that the broker queues telemetry while ingestion is down or slow.
 *
 * It speaks MQTT 5 where the broker does, because only MQTT 5 lets a client raise the broker's
 * window of unacknowledged messages (Receive Maximum): an MQTT 3.1.1 client gets the broker's
 * own limit — Mosquitto's `max_inflight_messages`, 20 by default — and with acknowledgements
 * sent after commit that caps ingestion at 20 messages per batch. Brokers without MQTT 5 (aedes)
 * refuse the protocol version; the session then connects with MQTT 3.1.1 (aedes has no such
 * window). In MQTT 5 the session's life is the Session Expiry Interval ({@link SESSION_EXPIRY_S}).
 * The connection subscribes again after every reconnect ({@link MqttConnection}), which a
 * Mosquitto restart needs: it resumes the session without its `$share/...` subscription.
 *
 * Acknowledgement: mqtt.js reads the next packet only when its `handleMessage` hook calls back,
 * and sends PUBACK at that moment unless the callback gets an error. This consumer calls back at
 * once (so that reading goes on) with a marker that suppresses the automatic PUBACK, and sends
 * the PUBACK itself once the message's batch is committed. When the pipeline's queue is full it
 * calls back only once there is room: mqtt.js stops reading, TCP pushes back, the broker queues.
 * A PUBACK for a connection that has since dropped is not sent: the broker redelivers the
 * message on the new connection and idempotent storage makes that harmless.
 */
@Injectable()
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IngestionConsumer');
  private connection: MqttConnection | null = null;
  private pendingAcks: number[] = [];
  private pendingStream: unknown = null;
  private pendingClient: MqttClient | null = null;
  private flushScheduled = false;
  private rebirthTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    @Inject(INGESTION_MESSAGING) private readonly messaging: IngestionMessaging,
    private readonly service: IngestionService,
  ) {}

  /** The client id that keeps this instance's persistent session. */
  get clientId(): string {
    return `${this.messaging.options.clientIdPrefix ?? 'continuum'}-ingestion-${this.config.instance}`;
  }

  /** The MQTT version of the session (5, or 3.1.1 where the broker has no MQTT 5); null before it connects. */
  get protocolVersion(): 4 | 5 | null {
    return this.connection?.protocolVersion ?? null;
  }

  /** Whether the broker resumed this instance's session at the last (re)connection. */
  get sessionPresent(): boolean {
    return this.connection?.sessionPresent ?? false;
  }

  /** Whether the consumer's MQTT connection is up. */
  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  /** Connected, and the broker granted the device subscriptions on this connection. */
  get subscribed(): boolean {
    return this.connection?.subscribed ?? false;
  }

  /** The subscription filters, shared (`$share/<group>/...`) with an external broker unless configured off. */
  get filters(): string[] {
    const shared =
      this.config.sharedSubscription === 'on' ||
      (this.config.sharedSubscription === 'auto' && !this.messaging.embeddedBroker);
    return [TELEMETRY_FILTER, SPARKPLUG_FILTER].map((f) => (shared ? `$share/${this.config.shareGroup}/${f}` : f));
  }

  async onApplicationBootstrap(): Promise<void> {
    const { options } = this.messaging;
    this.connection = await MqttConnection.open({
      url: options.url,
      clientId: this.clientId,
      username: options.username,
      password: options.password,
      ca: options.ca,
      clean: false,
      protocolVersions: this.messaging.mqttVersions ?? [5, 4],
      properties: { receiveMaximum: RECEIVE_MAXIMUM, sessionExpiryInterval: SESSION_EXPIRY_S },
      maxReconnectMs: MAX_RECONNECT_MS,
      // The broker replays the session's queued messages right after CONNACK, before `open` resolves.
      handleMessage: (packet, callback, client) => this.handle(client, packet as IPublishPacket, callback),
    });
    // Sent again after every reconnect by MqttConnection (a resumed session may have lost it).
    await this.connection.subscribe(this.filters, 1);
    this.logger.log(
      `subscribed to ${this.filters.join(', ')} as ${this.clientId} ` +
        `(persistent session, QoS 1, MQTT ${this.connection.protocolVersion === 5 ? '5' : '3.1.1'})`,
    );
    this.rebirthTimer = setInterval(() => this.requestRebirths(), 2000);
    this.rebirthTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.rebirthTimer);
    const connection = this.connection;
    if (!connection) return;
    // Stop taking messages, write what was taken, acknowledge it, then leave (the session stays).
    connection.client.handleMessage = (_packet, callback) => callback(new Error(NOT_NOW));
    const flushed = await this.service.flush(10_000);
    this.service.stop();
    if (!flushed) this.logger.warn('shutting down with uncommitted messages; the broker will redeliver them');
    this.flushAcks();
    await connection.close();
    this.connection = null;
  }

  private handle(client: MqttClient, packet: IPublishPacket, callback: (err?: Error) => void): void {
    const stream = client.stream;
    const ack = packet.qos > 0 && packet.messageId !== undefined ? this.acker(client, stream, packet.messageId) : null;
    const wait = this.service.accept({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      receivedAt: Date.now(),
      ack,
    });
    // An error makes mqtt.js skip its own PUBACK; it reads on either way.
    const proceed = () => callback(packet.qos > 0 ? DEFERRED : undefined);
    if (wait) wait.then(proceed);
    else proceed();
  }

  private acker(client: MqttClient, stream: unknown, messageId: number): () => void {
    return () => {
      if (client.stream !== stream || !client.connected) return; // redelivered on the new connection
      if (this.pendingStream !== stream) {
        this.flushAcks();
        this.pendingStream = stream;
        // The client itself, not this.connection: batches can commit before `open` has resolved.
        this.pendingClient = client;
      }
      this.pendingAcks.push(messageId);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flushAcks());
      }
    };
  }

  /** Writes the PUBACKs collected since the last flush in one write. */
  private flushAcks(): void {
    this.flushScheduled = false;
    const client = this.pendingClient;
    if (this.pendingAcks.length > 0 && client && client.stream === this.pendingStream && client.connected)
      client.stream.write(encodePubacks(this.pendingAcks));
    this.pendingAcks = [];
  }

  /** Asks edge nodes whose aliases this instance cannot resolve to publish their births again. */
  private requestRebirths(): void {
    const connection = this.connection;
    if (!connection?.connected) return;
    for (const { group, edgeNode } of this.service.decoder.sparkplug.takeRebirthRequests()) {
      this.logger.log(`asking Sparkplug edge node ${group}/${edgeNode} to rebirth (unknown aliases)`);
      connection
        .publish(`spBv1.0/${group}/NCMD/${edgeNode}`, encodeRebirthCommand(Date.now()), { qos: 0 })
        .catch(() => undefined);
    }
  }
}

/**
 * PUBACK packets for these message ids, back to back: fixed header 0x40, remaining length 2,
 * the id (MQTT 3.1.1 §3.4; in MQTT 5 a PUBACK without reason code means success, §3.4.2.1).
 */
export function encodePubacks(messageIds: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(messageIds.length * 4);
  for (let i = 0; i < messageIds.length; i++) {
    out[i * 4] = 0x40;
    out[i * 4 + 1] = 0x02;
    out.writeUInt16BE(messageIds[i], i * 4 + 2);
  }
  return out;
}

const NOT_NOW = 'ingestion is shutting down';
/** Passed to mqtt.js's handleMessage callback: suppresses its PUBACK (sent after commit instead). */
const DEFERRED = new Error('acknowledged after commit');
