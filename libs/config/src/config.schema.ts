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
});

export type Env = z.infer<typeof envSchema>;
