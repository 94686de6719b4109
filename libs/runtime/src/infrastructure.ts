import type { DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ConfigModule, type AppConfig } from '@continuum/config';
import { EmbeddedBroker, MessagingModule, MqttConnection, clientId, type MessagingOptions } from '@continuum/messaging';
import { Database, PersistenceModule } from '@continuum/persistence';

/**
 * The shared infrastructure of one process: configuration and logging, the open database, the
 * broker (embedded or external) and the MQTT connection. Opened once per process, before Nest
 * starts, and handed to every app module the process runs, so that apps composed into one
 * process (apps/platform) share one database and one broker connection.
 */
export interface Infrastructure {
  config: AppConfig;
  database: Database;
  broker: EmbeddedBroker | null;
  messaging: MessagingOptions;
  mqtt: MqttConnection;
  /** The process's Prometheus registry: apps register their metrics here, the api serves it on /metrics. */
  metrics: Registry;
  modules: { config: DynamicModule; persistence: DynamicModule; messaging: DynamicModule };
  /** Closes the MQTT connection, the database (flushing the embedded one) and the broker. */
  close(): Promise<void>;
}

/**
 * Opens the infrastructure of a process with the given role. Fails with a one-line message
 * (port taken, database unreachable, broker unreachable) and leaves nothing open behind.
 */
export async function openInfrastructure(config: AppConfig, role: string): Promise<Infrastructure> {
  const opened: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    opened.length = 0;
  };
  try {
    const broker =
      config.mqtt.mode === 'embedded' ? await EmbeddedBroker.start({ port: config.mqtt.port, host: '0.0.0.0' }) : null;
    if (broker) opened.push(() => broker.close());
    const messaging: MessagingOptions = {
      url: broker ? broker.url : (config.mqtt as { url: string }).url,
      role,
      clientIdPrefix: config.mqtt.clientId,
      username: config.mqtt.username,
      password: config.mqtt.password,
    };
    const database = await Database.open(config.database).catch((err: Error & { code?: string }) => {
      throw new Error(`cannot open the database: ${err.message.split('\n')[0]}`);
    });
    opened.push(() => database.close());
    const mqtt = await MqttConnection.open({ ...messaging, clientId: clientId(messaging, 'main') });
    opened.push(() => mqtt.close());
    return {
      config,
      database,
      broker,
      messaging,
      mqtt,
      metrics: new Registry(),
      modules: {
        config: ConfigModule.forRoot(config),
        persistence: PersistenceModule.forRoot(database, config.database),
        messaging: MessagingModule.forRoot(messaging, mqtt),
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
