import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of ingestion, registered in the process's registry (served on the api's /metrics). */
export class IngestionMetrics {
  readonly received: Counter<'kind'>;
  readonly accepted: Counter;
  readonly rejected: Counter<'reason'>;
  readonly rowsWritten: Counter;
  readonly rowsDuplicate: Counter;
  readonly batchRows: Histogram;
  readonly batchSeconds: Histogram;
  readonly queueRows: Gauge;
  readonly writeErrors: Counter;
  readonly degraded: Gauge;
  readonly seqGaps: Counter;
  readonly metricsSkipped: Counter<'why'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.received = new Counter({
      name: 'ingestion_messages_received_total',
      help: 'MQTT messages received, by kind (json, sparkplug)',
      labelNames: ['kind'],
      registers,
    });
    this.accepted = new Counter({
      name: 'ingestion_messages_accepted_total',
      help: 'Messages stored (committed)',
      registers,
    });
    this.rejected = new Counter({
      name: 'ingestion_messages_rejected_total',
      help: 'Messages refused and stored in dead_letters, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.rowsWritten = new Counter({
      name: 'ingestion_rows_written_total',
      help: 'Readings inserted (new rows)',
      registers,
    });
    this.rowsDuplicate = new Counter({
      name: 'ingestion_rows_duplicate_total',
      help: 'Readings skipped because they were already stored (redelivery, duplicates)',
      registers,
    });
    this.batchRows = new Histogram({
      name: 'ingestion_batch_rows',
      help: 'Readings per written batch',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'ingestion_batch_write_seconds',
      help: 'Time to write and commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.queueRows = new Gauge({
      name: 'ingestion_queue_rows',
      help: 'Readings received and not yet committed (the bounded in-memory queue)',
      registers,
    });
    this.writeErrors = new Counter({
      name: 'ingestion_db_write_errors_total',
      help: 'Failed batch writes (each is retried with backoff)',
      registers,
    });
    this.degraded = new Gauge({
      name: 'ingestion_degraded',
      help: '1 while batch writes are failing, 0 otherwise',
      registers,
    });
    this.seqGaps = new Counter({
      name: 'ingestion_sparkplug_seq_gaps_total',
      help: 'Gaps in Sparkplug B sequence numbers (messages lost before the broker)',
      registers,
    });
    this.metricsSkipped = new Counter({
      name: 'ingestion_sparkplug_metrics_skipped_total',
      help: 'Sparkplug metrics that carry no reading (null, non-numeric, non-finite)',
      labelNames: ['why'],
      registers,
    });
  }
}
