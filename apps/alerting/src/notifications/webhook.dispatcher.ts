import { Logger } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AlertingConfig } from '@continuum/config';
import type { AlertingMetrics } from '../metrics/alerting.metrics';

export const SIGNATURE_HEADER = 'x-continuum-signature';
export const TIMESTAMP_HEADER = 'x-continuum-timestamp';
export const DELIVERY_HEADER = 'x-continuum-delivery';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: signing the timestamp too defeats replays. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a received webhook's signature (constant-time). */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Sends one request; resolves with the HTTP status, rejects on network errors and time-outs. */
export type WebhookTransport = (
  url: string,
  init: { body: string; headers: Record<string, string>; timeoutMs: number },
) => Promise<number>;

export const fetchTransport: WebhookTransport = async (url, { body, headers, timeoutMs }) => {
  const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer().catch(() => undefined);
  return response.status;
};

interface Delivery {
  id: string;
  body: string;
  attempts: number;
}

/**
 * Delivers JSON events to webhook URLs: HTTP POST signed with HMAC-SHA256, retried with
 * exponential backoff (ALERTING_WEBHOOK_BACKOFF_MS doubling up to ..._MAX_MS) up to
 * ALERTING_WEBHOOK_MAX_ATTEMPTS, then dead-lettered (logged, counted). Each URL has its own bounded
 * queue and worker, so a failing or slow receiver delays only itself, and `enqueue` never waits:
 * a failing webhook never blocks alerting.
 */
export class WebhookDispatcher {
  private readonly logger = new Logger('Webhooks');
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Deliveries given up on (latest last, at most 100), for inspection. */
  readonly deadLetters: { url: string; id: string; attempts: number; reason: string }[] = [];

  constructor(
    private readonly config: AlertingConfig['webhooks'],
    private readonly metrics: AlertingMetrics,
    private readonly transport: WebhookTransport = fetchTransport,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.config.urls.length > 0 && this.config.secret !== null;
  }

  /** Queues an event for every URL; returns at once. */
  enqueue(event: unknown): void {
    if (!this.enabled || this.stopped) return;
    const body = JSON.stringify(event);
    for (const url of this.config.urls) {
      const queue = this.queues.get(url) ?? [];
      this.queues.set(url, queue);
      queue.push({ id: randomUUID(), body, attempts: 0 });
      if (queue.length > this.config.queueMax) this.dead(url, queue.shift()!, 'queue full');
      this.updateGauge();
      this.pump(url);
    }
  }

  /** Resolves once every queue is empty (tests), or after `timeoutMs`. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && ([...this.queues.values()].some((q) => q.length) || this.busy.size))
      await new Promise((r) => setTimeout(r, 20));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const pending = [...this.queues.values()].reduce((n, q) => n + q.length, 0);
    if (pending) this.logger.warn(`stopping with ${pending} webhook deliveries not sent`);
  }

  private pump(url: string): void {
    if (this.busy.has(url) || this.stopped) return;
    const delivery = this.queues.get(url)?.[0];
    if (!delivery) return;
    this.busy.add(url);
    void this.attempt(url, delivery).finally(() => {
      this.busy.delete(url);
    });
  }

  private async attempt(url: string, delivery: Delivery): Promise<void> {
    delivery.attempts++;
    const timestamp = String(this.now());
    let reason: string;
    try {
      const status = await this.transport(url, {
        body: delivery.body,
        timeoutMs: this.config.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'continuum-alerting',
          [TIMESTAMP_HEADER]: timestamp,
          [DELIVERY_HEADER]: delivery.id,
          [SIGNATURE_HEADER]: signWebhook(this.config.secret!, timestamp, delivery.body),
        },
      });
      if (status >= 200 && status < 300) {
        this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
        this.finish(url);
        return;
      }
      reason = `HTTP ${status}`;
    } catch (err) {
      reason = (err as Error).message;
    }
    if (delivery.attempts >= this.config.maxAttempts) {
      this.dead(url, delivery, reason);
      this.finish(url);
      return;
    }
    this.metrics.webhookDeliveries.inc({ outcome: 'retried' });
    const delay = Math.min(this.config.backoffMs * 2 ** (delivery.attempts - 1), this.config.backoffMaxMs);
    const jittered = delay * (0.8 + 0.4 * Math.random());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, jittered);
      timer.unref();
      this.timers.add(timer);
    });
    if (this.stopped) return;
    await this.attempt(url, delivery);
  }

  /** Removes the head delivery of a URL and starts the next one. */
  private finish(url: string): void {
    this.queues.get(url)?.shift();
    this.updateGauge();
    setImmediate(() => this.pump(url));
  }

  private dead(url: string, delivery: Delivery, reason: string): void {
    this.metrics.webhookDeliveries.inc({ outcome: 'dead' });
    this.deadLetters.push({ url, id: delivery.id, attempts: delivery.attempts, reason });
    if (this.deadLetters.length > 100) this.deadLetters.shift();
    this.logger.warn(`webhook ${url}: delivery ${delivery.id} dropped after ${delivery.attempts} attempts (${reason})`);
  }

  private updateGauge(): void {
    this.metrics.webhookQueue.set([...this.queues.values()].reduce((n, q) => n + q.length, 0));
  }
}
