import { z } from 'zod';

/**
 * Every environment variable Continuum reads, with its validator and default. This is the one
 * place configuration is defined; README.md's configuration table mirrors it.
 */
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = (fallback: number) =>
  z.coerce
    .number({ message: 'expected a port number' })
    .int('expected an integer port')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

const postgresUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  },
  { message: 'expected a PostgreSQL URL such as postgres://user:password@host:5432/database' },
);

const mqttUrl = z.string().refine(
  (value) => {
    try {
      return ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  },
  { message: 'expected an MQTT URL such as mqtt://host:1883' },
);

export const envSchema = z.object({
  /** HTTP port of the api/platform process (health, REST, dashboard). */
  PORT: port(3000),
  /** Interface the HTTP server binds to. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** HTTPS: PEM certificate chain and private key of the HTTP server (both or neither); read at start, never logged. */
  HTTP_TLS_CERT_FILE: z.string().min(1).optional(),
  HTTP_TLS_KEY_FILE: z.string().min(1).optional(),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** External PostgreSQL/TimescaleDB. Unset: embedded PGlite with TimescaleDB in DATABASE_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** Data directory of the embedded database. `memory://` keeps it in memory (tests). */
  DATABASE_DIR: z.string().min(1).default('./data/db'),
  /** Apply pending migrations at start. */
  DATABASE_MIGRATIONS_RUN: bool(true),
  /** Log every SQL statement (debugging). */
  DATABASE_LOG_QUERIES: bool(false),
  /** PostgreSQL (external mode): longest a statement may run (ms; `statement_timeout`; migrations run without it); 0: no limit. */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(120_000),
  /** Compress readings chunks older than this many days (TimescaleDB only). */
  READINGS_COMPRESS_AFTER_DAYS: z.coerce.number().int().min(1).default(7),
  /** Drop readings older than this many days; 0 keeps everything (TimescaleDB only). */
  READINGS_RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  /** How often the embedded database runs TimescaleDB's policy jobs (PGlite has no background workers). */
  EMBEDDED_JOBS_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),

  /** External MQTT broker. Unset: the embedded aedes broker on MQTT_PORT. */
  MQTT_URL: mqttUrl.optional(),
  /** Port of the embedded broker (0 picks a free one). */
  MQTT_PORT: port(1883),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  /** Client id prefix; each process appends its role and a random suffix. */
  MQTT_CLIENT_ID: z.string().min(1).default('continuum'),
  /**
   * Embedded broker only: devices must authenticate (username = machine id, password = a token from
   * `POST /api/v1/machines/{id}/credentials`) and may publish only under their own machine's topics;
   * the platform's own clients use an internal credential generated at start. Default false.
   */
  MQTT_DEVICE_AUTH: bool(false),
  /**
   * Embedded broker: PEM certificate chain and private key of a TLS listener on MQTT_TLS_PORT (both or
   * neither). Read at start, never logged. With TLS on, the plain listener on MQTT_PORT binds to
   * 127.0.0.1 only (the platform's own clients).
   */
  MQTT_TLS_CERT_FILE: z.string().min(1).optional(),
  MQTT_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Port of the embedded broker's TLS listener (0 picks a free one). */
  MQTT_TLS_PORT: port(8883),
  /** PEM CA bundle the platform's MQTT clients trust for `mqtts://`/`wss://` (besides the system CAs). */
  MQTT_TLS_CA_FILE: z.string().min(1).optional(),
  /** Embedded broker, MQTT_DEVICE_AUTH=true: sustained publishes per second per device (0: no limit)... */
  MQTT_DEVICE_MAX_MSGS_PER_S: z.coerce.number().min(0).default(50),
  /** ...and the burst a device may send above it (token bucket size). */
  MQTT_DEVICE_BURST: z.coerce.number().int().min(1).default(200),
  /** Embedded broker: an MQTT packet larger than this (bytes) closes the connection. */
  MQTT_MAX_PACKET_BYTES: z.coerce.number().int().min(1024).max(268_435_455).default(2_097_152),

  /**
   * Token of the first admin API key. Unset: on first start (no admin key yet) one is generated and
   * printed once in the log.
   */
  CONTINUUM_ADMIN_TOKEN: z.string().min(16, 'CONTINUUM_ADMIN_TOKEN must be at least 16 characters').optional(),
  /** Requests per minute per client on the REST API before 429. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /** socket.io `/live`: at most this many twin and reading events per machine per second (latest wins). */
  API_LIVE_EVENTS_PER_SECOND: z.coerce.number().positive().max(100).default(2),

  /**
   * Name of this ingestion instance, part of its fixed MQTT client id (`<MQTT_CLIENT_ID>-ingestion-<name>`),
   * so that a restarted instance resumes its persistent session. Unique per instance. Default: the host name.
   */
  INGESTION_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -')
    .optional(),
  /** Shared subscription (`$share/<group>/...`): `auto` uses one with an external broker only (aedes has none). */
  INGESTION_SHARED_SUBSCRIPTION: z
    .enum(['auto', 'true', 'false'], { message: 'expected auto, true or false' })
    .default('auto'),
  /** Group name of the shared subscription: instances in one group split the device topics between them. */
  INGESTION_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -')
    .default('ingestion'),
  /** Write a batch once it holds this many readings... */
  INGESTION_BATCH_MAX_ROWS: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** ...or once its oldest message has waited this long (milliseconds). */
  INGESTION_BATCH_MAX_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Readings held in memory (received, not yet committed); above it ingestion stops reading from the broker. */
  INGESTION_QUEUE_MAX_ROWS: z.coerce.number().int().min(1000).default(100_000),
  /** Batches written at the same time (each in its own transaction and connection). */
  INGESTION_WRITERS: z.coerce.number().int().min(1).max(8).default(2),
  /** Messages larger than this are dead-lettered as `payload-too-large`. */
  INGESTION_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(256).default(1_048_576),
  /** Dead letters keep at most this many bytes of the payload. */
  INGESTION_DEAD_LETTER_PAYLOAD_BYTES: z.coerce.number().int().min(0).default(4096),
  /** Readings stamped further in the future than this (ms) are dead-lettered as `timestamp-out-of-window`. */
  INGESTION_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(300_000),
  /** Readings older than this many days are dead-lettered as `timestamp-out-of-window`; 0 accepts any age. */
  INGESTION_MAX_AGE_DAYS: z.coerce.number().min(0).default(365),
  /** Refuse telemetry of machines nobody registered (`unknown-machine`); false registers them on first sight. */
  INGESTION_REQUIRE_REGISTERED: bool(false),
  /** First retry delay after a failed batch write; doubled on each failure up to INGESTION_RETRY_MAX_MS. */
  INGESTION_RETRY_MIN_MS: z.coerce.number().int().min(1).default(100),
  INGESTION_RETRY_MAX_MS: z.coerce.number().int().min(1).default(5000),

  /**
   * Run the simulated plant (apps/simulator) inside the process. Unset: on in embedded mode (the demo
   * `npm start` shows), off against an external broker.
   */
  SIMULATOR_ENABLED: z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' }).optional(),
  /** Machines of the simulated plant (pumps, motors, compressors in turn). */
  SIMULATOR_MACHINES: z.coerce.number().int().min(0).max(10_000).default(6),
  /** Simulated seconds per real second until the simulation has caught up with the wall clock. */
  SIMULATOR_SPEED: z.coerce.number().positive().max(1_000_000).default(3600),
  /** Seed of the simulated plant: the same seed gives the same machines, faults and readings. */
  SIMULATOR_SEED: z.coerce.number().int().min(0).default(1),

  /** Name of this twin instance in partition leases; unique per instance. Default: host name, process id and a random suffix. */
  TWIN_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 of A-Z a-z 0-9 _ . : -')
    .optional(),
  /** Collect ReadingsStored announcements this long (ms) before advancing the twins in one batch... */
  TWIN_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(10_000).default(50),
  /** ...or until this many machines are waiting, whichever comes first. */
  TWIN_BATCH_MAX_MACHINES: z.coerce.number().int().min(1).max(100_000).default(4096),
  /** Most readings rows (sensor values) one batch fetches; the rest (the newest) waits for the next batch. */
  TWIN_BATCH_MAX_ROWS: z.coerce.number().int().min(100).default(20_000),
  /** Longest one stage of a batch or of a lease hand-over (fetch, publish, store, checkpoint, restore) may take (ms) before it is abandoned and counted as an error. */
  TWIN_STAGE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Most twin updates being published at once (each an MQTT message and a TwinUpdated event, QoS 1, awaiting the broker's acknowledgement); no new batch is fetched while this many are pending. */
  TWIN_PUBLISH_MAX_INFLIGHT: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** Adaptive solver of the latent ODE between readings (dopri5, tsit5 or bosh3). */
  TWIN_SOLVER: z.enum(['dopri5', 'tsit5', 'bosh3'], { message: 'expected dopri5, tsit5 or bosh3' }).default('dopri5'),
  /** Relative and absolute tolerances of the twin's solves (latent units). */
  TWIN_RTOL: z.coerce.number().positive().max(1).default(1e-3),
  TWIN_ATOL: z.coerce.number().positive().max(1).default(1e-4),
  /** Start each solve from the machines' last accepted step sizes (resumable solves). */
  TWIN_WARM_START: bool(true),
  /** Rounds of at most this many machines (per model) are computed on the host, larger ones on TensorFlow.js; 0: always TensorFlow.js. */
  TWIN_HOST_MAX_BATCH: z.coerce.number().int().min(0).default(8),
  /** Longest gap (ms) the latent ODE is integrated over; over a longer silence it is integrated for this long only. */
  TWIN_MAX_ADVANCE_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(48 * 3_600_000),
  /** Readings older than the twin's time by more than this (ms) are dropped (`too-old`); younger ones are folded in. */
  TWIN_MAX_LAG_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Store a machine's prediction in twin_predictions at most once per this many ms; 0 stores every update. */
  TWIN_PREDICTIONS_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Forecast each updated machine at most once per this many ms (summary in its twin message); 0 never. */
  TWIN_FORECAST_INTERVAL_MS: z.coerce.number().int().min(0).default(300_000),
  /** Forecast horizon (ms), latent samples and points along the horizon. */
  TWIN_FORECAST_HORIZON_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(24 * 3_600_000),
  TWIN_FORECAST_SAMPLES: z.coerce.number().int().min(1).max(1024).default(32),
  TWIN_FORECAST_POINTS: z.coerce.number().int().min(1).max(500).default(24),
  /** Write changed twin states to twin_states this often (ms); also on shutdown and when partitions are handed over. */
  TWIN_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** Partitions machines are hashed into (the same on every instance). */
  TWIN_PARTITIONS: z.coerce.number().int().min(1).max(4096).default(64),
  /** Lease time-to-live and renewal period (ms): a crashed instance's partitions are taken over after the TTL. */
  TWIN_LEASE_TTL_MS: z.coerce.number().int().min(500).default(10_000),
  TWIN_LEASE_RENEW_MS: z.coerce.number().int().min(100).default(2_000),
  /** How often the models table is polled for newly activated versions (ms). */
  TWIN_MODEL_POLL_MS: z.coerce.number().int().min(100).default(10_000),
  /** Directory of the shipped default models (`<asset-type>/model.json`). */
  TWIN_MODELS_DIR: z.string().min(1).default('models/default'),

  /** apps/training: run queued jobs in this process (false: the service only accepts and lists jobs). */
  TRAINING_WORKER: bool(true),
  /** Jobs run at the same time by one training service (they share its CPU). */
  TRAINING_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** How often the queue is polled for new jobs (ms). */
  TRAINING_POLL_MS: z.coerce.number().int().min(100).default(2000),
  /** A running job's heartbeat (and progress) is written at least this often (ms). */
  TRAINING_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
  /** A running job without a heartbeat for this long (ms) was orphaned by a stopped service: resumed or failed. */
  TRAINING_STALE_MS: z.coerce.number().int().min(1000).default(60_000),
  /** How many times an orphaned job is resumed from its last checkpoint before it is failed. */
  TRAINING_MAX_RESUMES: z.coerce.number().int().min(0).max(100).default(2),
  /** Directory of per-job checkpoints (weights, optimiser state, epoch), `<dir>/<job id>/`. */
  TRAINING_CHECKPOINT_DIR: z.string().min(1).default('data/training'),
  /** Readings fetched per database round trip while building a job's data set. */
  TRAINING_CHUNK_ROWS: z.coerce.number().int().min(100).max(1_000_000).default(20_000),
  /** Wall-clock budget of one job (s); training stops (keeping the best weights) when it is spent. */
  TRAINING_MAX_SECONDS: z.coerce.number().int().min(1).default(3600),

  /** apps/alerting: use the built-in default rules (docs/alerting.md) when `alert_rules` is empty. */
  ALERTING_DEFAULT_RULES: bool(true),
  /** How often escalation and auto-clear are checked when no twin update arrives (ms). */
  ALERTING_TICK_MS: z.coerce.number().int().min(100).default(5000),
  /** How often the rules are re-read from the database (edits through the service apply at once). */
  ALERTING_RULES_REFRESH_MS: z.coerce.number().int().min(1000).default(30_000),
  /** An unresolved alert's last-seen time and peak are written at most this often (ms). */
  ALERTING_TOUCH_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
  /** Predictive rules with `createWorkOrder` open a draft work order (due by now + RUL p10). */
  ALERTING_WORK_ORDERS: bool(true),
  /** Comma-separated webhook URLs that receive every alert change (HTTP POST, JSON). */
  ALERTING_WEBHOOK_URLS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .refine((urls) => urls.every((u) => /^https?:\/\/[^\s]+$/.test(u)), {
      message: 'expected http(s) URLs separated by commas',
    }),
  /** HMAC-SHA256 key of the `X-Continuum-Signature` header; required when webhooks are set. */
  ALERTING_WEBHOOK_SECRET: z.string().min(16, 'ALERTING_WEBHOOK_SECRET must be at least 16 characters').optional(),
  /** Attempts per delivery before it is dead-lettered (logged and counted). */
  ALERTING_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** First retry delay (ms), doubled after each failure up to ALERTING_WEBHOOK_BACKOFF_MAX_MS. */
  ALERTING_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).default(1000),
  ALERTING_WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  /** A webhook request taking longer than this fails (and is retried). */
  ALERTING_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Deliveries waiting per webhook; beyond it the oldest is dead-lettered. */
  ALERTING_WEBHOOK_QUEUE_MAX: z.coerce.number().int().min(1).default(1000),
});

export type Env = z.infer<typeof envSchema>;
