import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the twin service, registered in the process's registry (served on the api's /metrics). */
export class TwinMetrics {
  readonly updates: Counter;
  readonly rejected: Counter<'reason'>;
  readonly skipped: Counter<'reason'>;
  readonly outOfOrder: Counter;
  readonly batchMachines: Histogram;
  readonly batchSeconds: Histogram;
  readonly nfe: Histogram;
  readonly solverError: Histogram;
  readonly latency: Histogram;
  readonly machines: Gauge;
  readonly partitions: Gauge;
  readonly backendBytes: Gauge;
  readonly bytesPerMachine: Gauge;
  readonly checkpoints: Counter;
  readonly forecasts: Counter;
  readonly errors: Counter<'stage'>;
  readonly publishBacklog: Gauge;
  /** Read by `twin_publish_backlog` when scraped (the service points it at its publisher). */
  publishBacklogOf: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.updates = new Counter({
      name: 'twin_updates_total',
      help: 'Twin updates published (rate() gives updates/s)',
      registers,
    });
    this.rejected = new Counter({
      name: 'twin_rejected_total',
      help: 'Readings (or sensors of readings) the twin did not use, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.skipped = new Counter({
      name: 'twin_skipped_total',
      help: 'Announced readings rows not fetched: their machine is unknown or its asset type has no model, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.outOfOrder = new Counter({
      name: 'twin_out_of_order_total',
      help: 'Readings older than their twin folded in at the twin time (no rewind)',
      registers,
    });
    this.batchMachines = new Histogram({
      name: 'twin_batch_machines',
      help: 'Machines advanced per solve (one model, one round)',
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'twin_batch_seconds',
      help: 'Wall time of a batch: fetch, advance, update, predict, publish',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.nfe = new Histogram({
      name: 'twin_solver_nfe',
      help: 'Function evaluations per batched solve (effective depth)',
      buckets: [0, 6, 8, 12, 16, 20, 26, 32, 50, 80, 120, 200],
      registers,
    });
    this.solverError = new Histogram({
      name: 'twin_solver_error_estimate',
      help: "The solver's largest scaled local error norm per solve (<= 1 when the tolerance held)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2],
      registers,
    });
    this.latency = new Histogram({
      name: 'twin_latency_seconds',
      help: 'From the readings being committed by ingestion to the twin update being published',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.machines = new Gauge({ name: 'twin_machines', help: 'Machines with a twin in this instance', registers });
    this.partitions = new Gauge({ name: 'twin_partitions_owned', help: 'Partitions this instance holds', registers });
    this.backendBytes = new Gauge({
      name: 'twin_backend_bytes',
      help: 'Bytes held by TensorFlow.js tensors (twin states and model weights)',
      registers,
    });
    this.bytesPerMachine = new Gauge({
      name: 'twin_backend_bytes_per_machine',
      help: 'Backend bytes (states and weights) per machine with a twin; a batch allocates nothing that outlives it',
      registers,
    });
    this.checkpoints = new Counter({
      name: 'twin_checkpoints_total',
      help: 'Twin states written to twin_states',
      registers,
    });
    this.forecasts = new Counter({ name: 'twin_forecasts_total', help: 'Machine forecasts computed', registers });
    this.errors = new Counter({
      name: 'twin_errors_total',
      help: 'Failures of a stage (fetch, publish, store, checkpoint, leases, models); the service carries on',
      labelNames: ['stage'],
      registers,
    });
    const backlogOf = () => this.publishBacklogOf();
    this.publishBacklog = new Gauge({
      name: 'twin_publish_backlog',
      help: 'Twin updates being published and not yet acknowledged by the broker, or waiting for room in TWIN_PUBLISH_MAX_INFLIGHT; no batch is fetched while it is at that window',
      registers,
      collect() {
        this.set(backlogOf());
      },
    });
  }
}
