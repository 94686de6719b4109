import { NO_MATCHING_SUBSCRIBERS, type MqttConnection } from '@continuum/messaging';

/** How a {@link StoreAndForwardPublisher} holds and re-sends what nobody received. */
export interface StoreAndForwardOptions {
  /** Messages held per device at most; past it the oldest is dropped (counted). Default 10,000. */
  maxHeldPerDevice?: number;
  /** First delay before re-sending a device's held messages; doubled while still unreceived. Default 100 ms. */
  retryMs?: number;
  /** Longest delay between re-sends. Default 2,000 ms. */
  maxRetryMs?: number;
}

/** What a {@link StoreAndForwardPublisher} did so far (QoS 1 messages; QoS 0 ones only count in `sent`). */
export interface DeliveryStats {
  /** PUBLISH packets sent, re-sends included. */
  sent: number;
  /** Messages acknowledged with a delivery reason code (PUBACK < 0x80, other than 0x10). */
  delivered: number;
  /** PUBACKs with 0x10 "No matching subscribers": the broker accepted the message and dropped it. */
  noSubscribers: number;
  /** Re-sends of messages answered 0x10 (not counting first sends of messages queued behind them). */
  resent: number;
  /** Messages held now, waiting to be re-sent. */
  held: number;
  /** Held messages dropped because a device's buffer was full. */
  dropped: number;
  /** Publishes the broker refused (PUBACK >= 0x80) or that failed otherwise. */
  failed: number;
}

interface Held {
  /** Sent before (and answered 0x10), or only queued behind such a message. */
  sentBefore: boolean;
  topic: string;
  payload: Buffer;
  onDelivered?: () => void;
}

interface Device {
  queue: Held[];
  delayMs: number;
  timer?: NodeJS.Timeout;
  draining: boolean;
}

/**
 * A device's store-and-forward over MQTT 5: a QoS 1 message the broker acknowledges with reason
 * code 0x10 "No matching subscribers" was accepted and dropped, not delivered. A broker does that
 * when no subscription matches the topic, as Mosquitto 2.0 does right after a restart until the
 * consumers' shared (`$share/...`) subscriptions are made again (it does not persist them). Such
 * a message is kept and re-sent after a backoff (100 ms, doubling up to 2 s) until a PUBACK
 * without 0x10 says a subscriber took it; messages of that device published meanwhile queue
 * behind it, so a device's held messages are re-sent in their original order. The buffer is
 * bounded per device; past it the oldest held message is dropped and counted, as a device with
 * full flash would.
 *
 * Over MQTT 3.1.1 the PUBACK has no reason code and this is a plain QoS 1 publisher: such a device
 * cannot know that a message went nowhere.
 */
export class StoreAndForwardPublisher {
  readonly stats: DeliveryStats = {
    sent: 0,
    delivered: 0,
    noSubscribers: 0,
    resent: 0,
    held: 0,
    dropped: 0,
    failed: 0,
  };
  private readonly devices = new Map<string, Device>();
  private readonly maxHeld: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    readonly connection: MqttConnection,
    options: StoreAndForwardOptions = {},
  ) {
    this.maxHeld = options.maxHeldPerDevice ?? 10_000;
    this.retryMs = options.retryMs ?? 100;
    this.maxRetryMs = options.maxRetryMs ?? 2000;
  }

  /**
   * Publishes `device`'s message. Resolves once the broker acknowledged it (QoS 1), whether it was
   * delivered or held for re-sending, or at once when it queues behind held messages of the same
   * device; `onDelivered` is called when a PUBACK says it was delivered. Rejects when the broker
   * refuses it (PUBACK >= 0x80).
   */
  async publish(
    device: string,
    topic: string,
    payload: Buffer,
    qos: 0 | 1 = 1,
    onDelivered?: () => void,
  ): Promise<void> {
    if (qos === 0) {
      this.stats.sent++;
      await this.connection.publishForReason(topic, payload, { qos: 0, retain: false });
      return;
    }
    const d = this.device(device);
    const message: Held = { sentBefore: false, topic, payload, onDelivered };
    if (d.queue.length > 0) {
      this.hold(device, d, message);
      return;
    }
    this.stats.sent++;
    let reason: number;
    try {
      reason = await this.connection.publishForReason(topic, payload, { qos: 1, retain: false });
    } catch (err) {
      this.stats.failed++;
      throw err;
    }
    if (reason === NO_MATCHING_SUBSCRIBERS) {
      this.stats.noSubscribers++;
      message.sentBefore = true;
      this.hold(device, d, message);
    } else {
      this.delivered(message);
      this.settle();
    }
  }

  /** Resolves when nothing is held (every message delivered, dropped or failed), or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.stats.held === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** Stops re-sending; what is still held stays counted in `held`. */
  close(): void {
    this.closed = true;
    for (const d of this.devices.values()) clearTimeout(d.timer);
    this.settle(true);
  }

  private device(id: string): Device {
    let d = this.devices.get(id);
    if (!d) this.devices.set(id, (d = { queue: [], delayMs: this.retryMs, draining: false }));
    return d;
  }

  private hold(id: string, d: Device, message: Held): void {
    d.queue.push(message);
    this.stats.held++;
    if (d.queue.length > this.maxHeld) {
      d.queue.shift();
      this.stats.held--;
      this.stats.dropped++;
    }
    if (!d.timer && !d.draining && !this.closed) d.timer = setTimeout(() => void this.drain(id, d), d.delayMs);
  }

  /** Re-sends a device's held messages in order; backs off while the broker still answers 0x10. */
  private async drain(id: string, d: Device): Promise<void> {
    d.timer = undefined;
    d.draining = true;
    try {
      while (d.queue.length > 0 && !this.closed) {
        const head = d.queue[0];
        this.stats.sent++;
        if (head.sentBefore) this.stats.resent++;
        head.sentBefore = true;
        let reason: number;
        try {
          reason = await this.connection.publishForReason(head.topic, head.payload, { qos: 1, retain: false });
        } catch {
          this.stats.failed++;
          reason = -1;
        }
        if (reason === NO_MATCHING_SUBSCRIBERS) {
          this.stats.noSubscribers++;
          d.delayMs = Math.min(d.delayMs * 2, this.maxRetryMs);
          if (!this.closed) d.timer = setTimeout(() => void this.drain(id, d), d.delayMs);
          return;
        }
        // The head may have been dropped from a full buffer while it was in flight.
        if (d.queue[0] === head) {
          d.queue.shift();
          this.stats.held--;
        }
        if (reason >= 0) this.delivered(head);
        d.delayMs = this.retryMs;
      }
    } finally {
      d.draining = false;
      this.settle();
    }
  }

  private delivered(message: Held): void {
    this.stats.delivered++;
    message.onDelivered?.();
  }

  private settle(force = false): void {
    if ((this.stats.held === 0 || force) && this.idle.length) for (const resolve of this.idle.splice(0)) resolve();
  }
}
