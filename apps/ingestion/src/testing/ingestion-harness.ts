import { Module, type DynamicModule } from '@nestjs/common';
import type { DatabaseConfig } from '@continuum/config';
import { createTestDatabase } from '@continuum/persistence';
import { MqttConnection } from '@continuum/messaging';
import { IngestionModule } from '../ingestion.module';
import { TelemetryConsumer, type IngestionMessaging } from '../mqtt/telemetry.consumer';
import { IngestionService } from '../pipeline/ingestion.service';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startProcess, type Infrastructure, type RunningProcess, uniqueId, waitFor } from '@continuum/runtime';

export { waitFor };

export const unique = uniqueId;

/**
 * Heap in use after a full garbage collection: what is retained, not what happens to be uncollected
 * yet. Without the collection, heapUsed swings by tens of MiB with the collector's timing (a test that
 * compared two raw readings failed in CI at 70 MiB of garbage).
 */
export function retainedHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc(); // a second pass collects what finalizers of the first released
  return process.memoryUsage().heapUsed;
}

/** The ingestion app in this process on a given database, with the embedded broker or `mqttUrl`. */
export interface IngestionHarness {
  proc: RunningProcess;
  service: IngestionService;
  /** URL publishers use. */
  url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  publisher(): Promise<MqttConnection>;
  /** Stops ingestion and removes its persistent session from the broker. */
  close(): Promise<void>;
}

export async function startIngestion(
  database: DatabaseConfig,
  options: { mqttUrl?: string; env?: Record<string, string>; messaging?: Partial<IngestionMessaging> } = {},
): Promise<IngestionHarness> {
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: 'warn',
    ...(database.mode === 'embedded' ? { DATABASE_DIR: database.dataDir } : { DATABASE_URL: database.url }),
    ...(options.mqttUrl ? { MQTT_URL: options.mqttUrl } : { MQTT_PORT: '0' }),
    MQTT_CLIENT_ID: `test-${unique()}`,
    INGESTION_INSTANCE: unique(),
    INGESTION_SHARE_GROUP: `test-${unique()}`,
    ...options.env,
  };
  @Module({})
  class TestIngestionModule {
    static register(infra: Infrastructure): DynamicModule {
      return {
        module: TestIngestionModule,
        imports: [infra.modules.config, IngestionModule.register(infra, options.messaging)],
      };
    }
  }
  const proc = await startProcess(
    { role: 'ingestion', rootModule: TestIngestionModule.register, http: false, events: false, embedded: true },
    env,
  );
  const url = proc.infra.messaging.url;
  const clientId = proc.app.get(TelemetryConsumer).clientId;
  const publishers: MqttConnection[] = [];
  return {
    proc,
    service: proc.app.get(IngestionService),
    url,
    query: (sql, params) => proc.infra.database.dataSource.query(sql, params),
    publisher: async () => {
      const p = await MqttConnection.open({ url, clientId: `pub-${unique()}` });
      publishers.push(p);
      return p;
    },
    close: async () => {
      await Promise.all(publishers.map((p) => p.close()));
      await proc.close();
      if (options.mqttUrl) {
        // A clean-session connect with the same id discards the persistent session.
        const c = await MqttConnection.open({ url: options.mqttUrl, clientId, clean: true });
        await c.close();
      }
    },
  };
}

/** {@link startIngestion} on a fresh test database of `mode`; `close()` also drops the database. */
export async function startIngestionOnTestDatabase(
  mode: 'embedded' | 'external',
  options: Parameters<typeof startIngestion>[1] = {},
): Promise<IngestionHarness> {
  const database = await createTestDatabase(mode);
  let h: IngestionHarness;
  try {
    h = await startIngestion(database.config, options);
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    ...h,
    close: async () => {
      await h.close();
      await database.drop();
    },
  };
}

/** The combinations an ingestion test runs in: aedes + PGlite always; Mosquitto + PostgreSQL when both URLs are set. */
export function ingestionModes(): { name: string; db: 'embedded' | 'external'; mqttUrl?: string }[] {
  const modes: { name: string; db: 'embedded' | 'external'; mqttUrl?: string }[] = [
    { name: 'aedes + PGlite', db: 'embedded' },
  ];
  if (process.env.DATABASE_URL && process.env.MQTT_URL)
    modes.push({ name: 'external broker + PostgreSQL', db: 'external', mqttUrl: process.env.MQTT_URL });
  return modes;
}
