import { hostname } from 'node:os';
import { envSchema, type Env } from './config.schema';

/** The validated, typed configuration of a Continuum process. */
export interface AppConfig {
  http: { port: number; host: string };
  api: { adminToken?: string; rateLimitPerMinute: number; liveEventsPerSecond: number };
  log: { level: Env['LOG_LEVEL'] };
  database: DatabaseConfig;
  mqtt: MqttConfig;
  ingestion: IngestionConfig;
  simulator: SimulatorConfig;
  twin: TwinConfig;
  alerting: AlertingConfig;
  training: TrainingConfig;
  tls: TlsConfig;
}

/** TLS for HTTP and MQTT (the *_TLS_* variables): file paths only; the files are read at start. */
export interface TlsConfig {
  /** HTTPS for the HTTP server. */
  http: { certFile: string; keyFile: string } | null;
  /** The embedded broker's TLS listener. */
  mqttBroker: { certFile: string; keyFile: string; port: number } | null;
  /** CA bundle the platform's MQTT clients trust. */
  mqttCaFile: string | null;
}

/** apps/training: the job queue worker (the TRAINING_* variables). */
export interface TrainingConfig {
  worker: boolean;
  concurrency: number;
  pollMs: number;
  heartbeatMs: number;
  staleMs: number;
  maxResumes: number;
  checkpointDir: string;
  chunkRows: number;
  maxSeconds: number;
}

/** apps/alerting: rules, timing, work orders and webhooks (the ALERTING_* variables). */
export interface AlertingConfig {
  defaultRules: boolean;
  tickMs: number;
  rulesRefreshMs: number;
  touchIntervalMs: number;
  workOrders: boolean;
  webhooks: {
    urls: string[];
    secret: string | null;
    maxAttempts: number;
    backoffMs: number;
    backoffMaxMs: number;
    timeoutMs: number;
    queueMax: number;
  };
}

/** apps/simulator inside a process (the SIMULATOR_* variables). */
export interface SimulatorConfig {
  enabled: boolean;
  machines: number;
  speed: number;
  seed: number;
}

/** apps/ingestion: subscription, batching, limits and validation (the INGESTION_* variables). */
export interface IngestionConfig {
  /** Fixed per instance, so that the persistent session survives restarts. */
  instance: string;
  sharedSubscription: 'auto' | 'on' | 'off';
  shareGroup: string;
  batchMaxRows: number;
  batchMaxMs: number;
  queueMaxRows: number;
  writers: number;
  maxPayloadBytes: number;
  deadLetterPayloadBytes: number;
  maxFutureMs: number;
  /** 0: no lower bound. */
  maxAgeMs: number;
  requireRegistered: boolean;
  retryMinMs: number;
  retryMaxMs: number;
}

/** apps/twin: batching, solver, forecasts, checkpoints, partitions (the TWIN_* variables). */
export interface TwinConfig {
  instance: string;
  batchWindowMs: number;
  batchMaxMachines: number;
  batchMaxRows: number;
  stageTimeoutMs: number;
  /** TWIN_PUBLISH_MAX_INFLIGHT: updates published and not yet acknowledged at most. */
  publishMaxInflight: number;
  solver: {
    method: 'dopri5' | 'tsit5' | 'bosh3';
    rtol: number;
    atol: number;
    warmStart: boolean;
    maxAdvanceMs: number;
    hostMaxBatch: number;
  };
  maxLagMs: number;
  predictionsIntervalMs: number;
  forecast: { intervalMs: number; horizonMs: number; samples: number; points: number };
  checkpointIntervalMs: number;
  partitions: number;
  leaseTtlMs: number;
  leaseRenewMs: number;
  modelPollMs: number;
  modelsDir: string;
}

export type DatabaseConfig =
  ({ mode: 'embedded'; dataDir: string } & DatabaseCommon) | ({ mode: 'external'; url: string } & DatabaseCommon);

export interface DatabaseCommon {
  migrationsRun: boolean;
  logQueries: boolean;
  readings: { compressAfterDays: number; retentionDays: number };
  embeddedJobsIntervalMs: number;
  /** External mode: longest a statement may run (ms; `statement_timeout`); 0 or unset: no limit. */
  queryTimeoutMs?: number;
}

export type MqttConfig =
  | ({
      mode: 'embedded';
      port: number;
      deviceAuth: boolean;
      /** Per-device publish rate (token bucket) when devices authenticate; 0 messages/s: no limit. */
      deviceLimits: { maxMsgsPerSecond: number; burst: number };
      maxPacketBytes: number;
    } & MqttCommon)
  | ({ mode: 'external'; url: string } & MqttCommon);

export interface MqttCommon {
  username?: string;
  password?: string;
  clientId: string;
}

/** Thrown for invalid configuration; `message` is one line naming every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates environment variables into an {@link AppConfig}.
 * @param env the variables to read (defaults to `process.env`); empty strings count as unset.
 * @throws ConfigError with a one-line message such as
 *   `Invalid environment variables: PORT: expected a port between 0 and 65535`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment variables: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.ALERTING_WEBHOOK_URLS.length > 0 && !e.ALERTING_WEBHOOK_SECRET)
    throw new ConfigError(
      'Invalid environment variables: ALERTING_WEBHOOK_SECRET: required when ALERTING_WEBHOOK_URLS is set (webhooks are signed)',
    );
  const pair = (cert: keyof Env, key: keyof Env) => {
    if (!!e[cert] !== !!e[key])
      throw new ConfigError(`Invalid environment variables: ${cert} and ${key} must be set together`);
  };
  pair('HTTP_TLS_CERT_FILE', 'HTTP_TLS_KEY_FILE');
  pair('MQTT_TLS_CERT_FILE', 'MQTT_TLS_KEY_FILE');
  if (e.MQTT_TLS_CERT_FILE && e.MQTT_URL)
    throw new ConfigError(
      'Invalid environment variables: MQTT_TLS_CERT_FILE: configures the embedded broker, but MQTT_URL is set (configure TLS on that broker)',
    );
  const dbCommon: DatabaseCommon = {
    migrationsRun: e.DATABASE_MIGRATIONS_RUN,
    logQueries: e.DATABASE_LOG_QUERIES,
    readings: { compressAfterDays: e.READINGS_COMPRESS_AFTER_DAYS, retentionDays: e.READINGS_RETENTION_DAYS },
    embeddedJobsIntervalMs: e.EMBEDDED_JOBS_INTERVAL_MS,
    queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
  };
  const mqttCommon: MqttCommon = { username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, clientId: e.MQTT_CLIENT_ID };
  return {
    http: { port: e.PORT, host: e.HOST },
    api: {
      adminToken: e.CONTINUUM_ADMIN_TOKEN,
      rateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
      liveEventsPerSecond: e.API_LIVE_EVENTS_PER_SECOND,
    },
    log: { level: e.LOG_LEVEL },
    database: e.DATABASE_URL
      ? { mode: 'external', url: e.DATABASE_URL, ...dbCommon }
      : { mode: 'embedded', dataDir: e.DATABASE_DIR, ...dbCommon },
    mqtt: e.MQTT_URL
      ? { mode: 'external', url: e.MQTT_URL, ...mqttCommon }
      : {
          mode: 'embedded',
          port: e.MQTT_PORT,
          deviceAuth: e.MQTT_DEVICE_AUTH,
          deviceLimits: { maxMsgsPerSecond: e.MQTT_DEVICE_MAX_MSGS_PER_S, burst: e.MQTT_DEVICE_BURST },
          maxPacketBytes: e.MQTT_MAX_PACKET_BYTES,
          ...mqttCommon,
        },
    tls: {
      http: e.HTTP_TLS_CERT_FILE ? { certFile: e.HTTP_TLS_CERT_FILE, keyFile: e.HTTP_TLS_KEY_FILE! } : null,
      mqttBroker: e.MQTT_TLS_CERT_FILE
        ? { certFile: e.MQTT_TLS_CERT_FILE, keyFile: e.MQTT_TLS_KEY_FILE!, port: e.MQTT_TLS_PORT }
        : null,
      mqttCaFile: e.MQTT_TLS_CA_FILE ?? null,
    },
    ingestion: {
      instance:
        e.INGESTION_INSTANCE ??
        (hostname()
          .replace(/[^A-Za-z0-9_.-]/g, '-')
          .slice(0, 64) ||
          'default'),
      sharedSubscription:
        e.INGESTION_SHARED_SUBSCRIPTION === 'auto' ? 'auto' : e.INGESTION_SHARED_SUBSCRIPTION === 'true' ? 'on' : 'off',
      shareGroup: e.INGESTION_SHARE_GROUP,
      batchMaxRows: e.INGESTION_BATCH_MAX_ROWS,
      batchMaxMs: e.INGESTION_BATCH_MAX_MS,
      queueMaxRows: Math.max(e.INGESTION_QUEUE_MAX_ROWS, e.INGESTION_BATCH_MAX_ROWS),
      writers: e.INGESTION_WRITERS,
      maxPayloadBytes: e.INGESTION_MAX_PAYLOAD_BYTES,
      deadLetterPayloadBytes: e.INGESTION_DEAD_LETTER_PAYLOAD_BYTES,
      maxFutureMs: e.INGESTION_MAX_FUTURE_MS,
      maxAgeMs: e.INGESTION_MAX_AGE_DAYS * 86_400_000,
      requireRegistered: e.INGESTION_REQUIRE_REGISTERED,
      retryMinMs: e.INGESTION_RETRY_MIN_MS,
      retryMaxMs: Math.max(e.INGESTION_RETRY_MAX_MS, e.INGESTION_RETRY_MIN_MS),
    },
    alerting: {
      defaultRules: e.ALERTING_DEFAULT_RULES,
      tickMs: e.ALERTING_TICK_MS,
      rulesRefreshMs: e.ALERTING_RULES_REFRESH_MS,
      touchIntervalMs: e.ALERTING_TOUCH_INTERVAL_MS,
      workOrders: e.ALERTING_WORK_ORDERS,
      webhooks: {
        urls: e.ALERTING_WEBHOOK_URLS,
        secret: e.ALERTING_WEBHOOK_SECRET ?? null,
        maxAttempts: e.ALERTING_WEBHOOK_MAX_ATTEMPTS,
        backoffMs: e.ALERTING_WEBHOOK_BACKOFF_MS,
        backoffMaxMs: Math.max(e.ALERTING_WEBHOOK_BACKOFF_MAX_MS, e.ALERTING_WEBHOOK_BACKOFF_MS),
        timeoutMs: e.ALERTING_WEBHOOK_TIMEOUT_MS,
        queueMax: e.ALERTING_WEBHOOK_QUEUE_MAX,
      },
    },
    simulator: {
      enabled: e.SIMULATOR_ENABLED === undefined ? !e.MQTT_URL : ['true', '1', 'yes'].includes(e.SIMULATOR_ENABLED),
      machines: e.SIMULATOR_MACHINES,
      speed: e.SIMULATOR_SPEED,
      seed: e.SIMULATOR_SEED,
    },
    training: {
      worker: e.TRAINING_WORKER,
      concurrency: e.TRAINING_CONCURRENCY,
      pollMs: e.TRAINING_POLL_MS,
      heartbeatMs: e.TRAINING_HEARTBEAT_MS,
      staleMs: Math.max(e.TRAINING_STALE_MS, 2 * e.TRAINING_HEARTBEAT_MS),
      maxResumes: e.TRAINING_MAX_RESUMES,
      checkpointDir: e.TRAINING_CHECKPOINT_DIR,
      chunkRows: e.TRAINING_CHUNK_ROWS,
      maxSeconds: e.TRAINING_MAX_SECONDS,
    },
    twin: {
      instance:
        e.TWIN_INSTANCE ??
        `${
          hostname()
            .replace(/[^A-Za-z0-9_.:-]/g, '-')
            .slice(0, 64) || 'twin'
        }-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      batchWindowMs: e.TWIN_BATCH_WINDOW_MS,
      batchMaxMachines: e.TWIN_BATCH_MAX_MACHINES,
      batchMaxRows: e.TWIN_BATCH_MAX_ROWS,
      stageTimeoutMs: e.TWIN_STAGE_TIMEOUT_MS,
      publishMaxInflight: e.TWIN_PUBLISH_MAX_INFLIGHT,
      solver: {
        method: e.TWIN_SOLVER,
        rtol: e.TWIN_RTOL,
        atol: e.TWIN_ATOL,
        warmStart: e.TWIN_WARM_START,
        maxAdvanceMs: e.TWIN_MAX_ADVANCE_MS,
        hostMaxBatch: e.TWIN_HOST_MAX_BATCH,
      },
      maxLagMs: e.TWIN_MAX_LAG_MS,
      predictionsIntervalMs: e.TWIN_PREDICTIONS_INTERVAL_MS,
      forecast: {
        intervalMs: e.TWIN_FORECAST_INTERVAL_MS,
        horizonMs: e.TWIN_FORECAST_HORIZON_MS,
        samples: e.TWIN_FORECAST_SAMPLES,
        points: e.TWIN_FORECAST_POINTS,
      },
      checkpointIntervalMs: e.TWIN_CHECKPOINT_INTERVAL_MS,
      partitions: e.TWIN_PARTITIONS,
      leaseTtlMs: e.TWIN_LEASE_TTL_MS,
      leaseRenewMs: Math.min(e.TWIN_LEASE_RENEW_MS, Math.floor(e.TWIN_LEASE_TTL_MS / 2)),
      modelPollMs: e.TWIN_MODEL_POLL_MS,
      modelsDir: e.TWIN_MODELS_DIR,
    },
  };
}
