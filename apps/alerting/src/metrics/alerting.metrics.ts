import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of alerting, registered in the process's registry (served on the api's /metrics). */
export class AlertingMetrics {
  readonly raised: Counter<'severity' | 'kind'>;
  readonly cleared: Counter<'severity' | 'kind' | 'how'>;
  readonly escalated: Counter<'severity'>;
  readonly detectorSeconds: Histogram;
  readonly errors: Counter<'stage'>;
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly webhookQueue: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.raised = new Counter({
      name: 'alerting_alerts_raised_total',
      help: 'Alerts raised, by severity and kind (divergence, forecast)',
      labelNames: ['severity', 'kind'],
      registers,
    });
    this.cleared = new Counter({
      name: 'alerting_alerts_cleared_total',
      help: 'Alerts ended, by severity, kind and how (condition: auto-cleared; resolved: by an operator)',
      labelNames: ['severity', 'kind', 'how'],
      registers,
    });
    this.escalated = new Counter({
      name: 'alerting_alerts_escalated_total',
      help: 'Alerts escalated, by the severity they reached',
      labelNames: ['severity'],
      registers,
    });
    this.detectorSeconds = new Histogram({
      name: 'alerting_detector_seconds',
      help: 'Time to run every rule of a machine on one twin update (detectors and lifecycle, without I/O)',
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
      registers,
    });
    this.errors = new Counter({
      name: 'alerting_errors_total',
      help: 'Failures while handling twin updates or ticks, by stage',
      labelNames: ['stage'],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'alerting_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retried, dead)',
      labelNames: ['outcome'],
      registers,
    });
    this.webhookQueue = new Gauge({
      name: 'alerting_webhook_queue',
      help: 'Webhook deliveries waiting (all URLs)',
      registers,
    });
  }
}
