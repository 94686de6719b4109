import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InternalEvent, alertsTopic, type AlertMessage } from '@continuum/contracts';
import { EventBus, MqttConnection } from '@continuum/messaging';
import { toAlertMessage, type AlertEntity } from '@continuum/persistence';
import { WebhookDispatcher } from './webhook.dispatcher';

/** What webhooks receive: the alert message plus its count, peak, details (RUL distribution) and history. */
export interface AlertWebhookEvent {
  event: 'alert.changed';
  change: string;
  alert: AlertMessage & Pick<AlertEntity, 'count' | 'peak' | 'details' | 'history'> & { lastSeenAt: number };
}

/**
 * Announces alert changes on every channel: the internal bus (`AlertChanged`, which the api's
 * socket.io gateway forwards to dashboards), MQTT `plants/{plantId}/alerts` (QoS 1), and webhooks.
 * Never throws and never waits for a channel: a broker outage or a failing webhook is logged and
 * does not hold up alerting.
 */
@Injectable()
export class AlertNotifier implements OnApplicationShutdown {
  private readonly logger = new Logger('AlertNotifier');
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly bus: EventBus,
    private readonly mqtt: MqttConnection,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  alertChanged(alert: AlertEntity, change: string): void {
    const message = toAlertMessage(alert);
    this.track(this.bus.emit(InternalEvent.AlertChanged, message), 'internal bus');
    this.track(this.mqtt.publish(alertsTopic(alert.plantId), JSON.stringify(message), { qos: 1 }), 'MQTT');
    this.webhooks.enqueue({
      event: 'alert.changed',
      change,
      alert: {
        ...message,
        count: alert.count,
        peak: alert.peak,
        details: alert.details,
        history: alert.history,
        lastSeenAt: new Date(alert.lastSeenAt).getTime(),
      },
    } satisfies AlertWebhookEvent);
  }

  onApplicationShutdown(): void {
    this.webhooks.stop();
  }

  /** Resolves once the bus and MQTT sends made so far have finished (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private track(sent: Promise<unknown>, channel: string): void {
    const p = sent.catch((err: Error) =>
      this.logger.warn(`cannot announce an alert on the ${channel}: ${err.message}`),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
