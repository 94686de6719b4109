import type { DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ConfigModule, type AppConfig } from '@continuum/config';
import { EmbeddedBroker, MessagingModule, MqttConnection, clientId, type MessagingOptions } from '@continuum/messaging';
import { Database, DeviceCredentialsRepository, PersistenceModule, type DeviceIdentity } from '@continuum/persistence';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

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
    // The broker starts first; devices can authenticate once the database is open.
    const opening: { db?: Database } = {};
    const metrics = new Registry();
    const mqttConfig = config.mqtt;
    const deviceAuth = mqttConfig.mode === 'embedded' && mqttConfig.deviceAuth ? internalCredential(config) : null;
    const brokerTls = config.tls.mqttBroker;
    const { maxMsgsPerSecond, burst } =
      mqttConfig.mode === 'embedded' ? mqttConfig.deviceLimits : { maxMsgsPerSecond: 0, burst: 1 };
    const broker =
      mqttConfig.mode === 'embedded'
        ? await EmbeddedBroker.start({
            port: mqttConfig.port,
            // With TLS, devices use the TLS listener; the plain one serves this process's own clients.
            host: brokerTls ? '127.0.0.1' : '0.0.0.0',
            ...(brokerTls && {
              tls: {
                cert: readSecretFile('MQTT_TLS_CERT_FILE', brokerTls.certFile),
                key: readSecretFile('MQTT_TLS_KEY_FILE', brokerTls.keyFile),
                port: brokerTls.port,
                host: '0.0.0.0',
              },
            }),
            maxPacketBytes: mqttConfig.maxPacketBytes,
            metrics,
            ...(deviceAuth && brokerDeviceAuth(deviceAuth, () => opening.db)),
            // Per-device limits need device identities: with MQTT_DEVICE_AUTH, the machine id.
            ...(deviceAuth &&
              maxMsgsPerSecond > 0 && {
                publishLimit: {
                  perSecond: maxMsgsPerSecond,
                  burst,
                  key: (_clientId: string, username: string | undefined) =>
                    username === deviceAuth.username ? null : (username ?? null),
                },
              }),
          })
        : null;
    if (broker) opened.push(() => broker.close());
    const messaging: MessagingOptions = {
      url: broker ? broker.url : (config.mqtt as { url: string }).url,
      role,
      clientIdPrefix: config.mqtt.clientId,
      username: deviceAuth?.username ?? config.mqtt.username,
      password: deviceAuth?.password ?? config.mqtt.password,
      ...(config.tls.mqttCaFile && { ca: readSecretFile('MQTT_TLS_CA_FILE', config.tls.mqttCaFile) }),
    };
    const db = await Database.open(config.database).catch((err: Error & { code?: string }) => {
      throw new Error(`cannot open the database: ${err.message.split('\n')[0]}`);
    });
    opening.db = db;
    opened.push(() => db.close());
    const mqtt = await MqttConnection.open({ ...messaging, clientId: clientId(messaging, 'main') });
    opened.push(() => mqtt.close());
    return {
      config,
      database: db,
      broker,
      messaging,
      mqtt,
      metrics,
      modules: {
        config: ConfigModule.forRoot(config),
        persistence: PersistenceModule.forRoot(db, config.database),
        messaging: MessagingModule.forRoot(messaging, mqtt),
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Reads a certificate, key or CA file named by a configuration variable; fails with a one-line
 * message naming the variable and the path (never the contents).
 */
export function readSecretFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(
      `cannot read ${variable} (${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * The credential of the platform's own MQTT clients when devices must authenticate
 * (MQTT_DEVICE_AUTH=true): MQTT_USERNAME/MQTT_PASSWORD when both are set, otherwise one generated at
 * start (every client of the embedded broker lives in the process that owns it).
 */
function internalCredential(config: AppConfig): { username: string; password: string } {
  return config.mqtt.username && config.mqtt.password
    ? { username: config.mqtt.username, password: config.mqtt.password }
    : { username: 'continuum-internal', password: randomBytes(24).toString('base64url') };
}

/**
 * The embedded broker's device authentication and topic authorisation: the internal credential may
 * do anything; a device (username = machine id, password = its token from
 * `POST /api/v1/machines/{id}/credentials`) may publish and subscribe only under
 * `plants/{plantId}/machines/{machineId}/`, so never `#` nor another machine's topics.
 */
function brokerDeviceAuth(internal: { username: string; password: string }, database: () => Database | undefined) {
  const devices = new Map<string, DeviceIdentity>();
  const isInternal = (username: string | undefined) => username === internal.username;
  const prefix = (d: DeviceIdentity) => `plants/${d.plantId}/machines/${d.machineId}/`;
  const mayUse = (clientId: string, username: string | undefined, topic: string) => {
    if (isInternal(username)) return true;
    const device = devices.get(clientId);
    return !!device && topic.startsWith(prefix(device)) && !/[#+]/.test(topic.slice(0, prefix(device).length));
  };
  return {
    authenticate: async (clientId: string, username: string | undefined, password: Buffer | undefined) => {
      devices.delete(clientId);
      if (!username || !password) return false;
      if (isInternal(username)) return password.toString('utf8') === internal.password;
      const db = database();
      if (!db) return false;
      const device = await new DeviceCredentialsRepository(db.dataSource).verify(username, password.toString('utf8'));
      if (device) devices.set(clientId, device);
      return !!device;
    },
    authorizePublish: mayUse,
    authorizeSubscribe: mayUse,
  };
}
