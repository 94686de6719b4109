import { Module, type DynamicModule } from '@nestjs/common';
import type { DatabaseConfig } from '@continuum/config';
import { EventBus, MqttConnection } from '@continuum/messaging';
import { AlertingModule } from '../alerting.module';
import { AlertsService } from '../alerts/alerts.service';
import { WebhookDispatcher } from '../notifications/webhook.dispatcher';
import { RulesService } from '../rules/rules.service';
import { startProcess, type Infrastructure, type RunningProcess, uniqueId, waitFor } from '@continuum/runtime';

export { waitFor };

export const unique = uniqueId;

/** The alerting app in this process on a given database and broker (embedded aedes unless `mqttUrl`). */
export interface AlertingHarness {
  proc: RunningProcess;
  alerts: AlertsService;
  rules: RulesService;
  webhooks: WebhookDispatcher;
  bus: EventBus;
  url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  subscriber(
    filter: string | string[],
  ): Promise<{ conn: MqttConnection; messages: { topic: string; payload: string }[] }>;
  close(): Promise<void>;
}

export async function startAlerting(
  database: DatabaseConfig,
  options: { mqttUrl?: string; env?: Record<string, string> } = {},
): Promise<AlertingHarness> {
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: 'warn',
    ...(database.mode === 'embedded' ? { DATABASE_DIR: database.dataDir } : { DATABASE_URL: database.url }),
    ...(options.mqttUrl ? { MQTT_URL: options.mqttUrl } : { MQTT_PORT: '0' }),
    MQTT_CLIENT_ID: `test-${unique()}`,
    ...options.env,
  };
  @Module({})
  class TestAlertingModule {
    static register(infra: Infrastructure): DynamicModule {
      return { module: TestAlertingModule, imports: [infra.modules.config, AlertingModule.register(infra)] };
    }
  }
  const proc = await startProcess(
    { role: 'alerting', rootModule: TestAlertingModule.register, http: false, events: true, embedded: true },
    env,
  );
  const url = proc.infra.messaging.url;
  const connections: MqttConnection[] = [];
  return {
    proc,
    alerts: proc.app.get(AlertsService),
    rules: proc.app.get(RulesService),
    webhooks: proc.app.get(WebhookDispatcher),
    bus: proc.app.get(EventBus, { strict: false }),
    url,
    query: (sql, params) => proc.infra.database.dataSource.query(sql, params),
    subscriber: async (filter) => {
      const conn = await MqttConnection.open({ url, clientId: `sub-${unique()}` });
      connections.push(conn);
      const messages: { topic: string; payload: string }[] = [];
      conn.client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
      await conn.subscribe(filter, 1);
      return { conn, messages };
    },
    close: async () => {
      await Promise.all(connections.map((c) => c.close()));
      await proc.close();
    },
  };
}

/** The combinations an alerting test runs in: aedes + PGlite always; Mosquitto + PostgreSQL when both URLs are set. */
export function alertingModes(): { name: string; db: 'embedded' | 'external'; mqttUrl?: string }[] {
  const modes: { name: string; db: 'embedded' | 'external'; mqttUrl?: string }[] = [
    { name: 'aedes + PGlite', db: 'embedded' },
  ];
  if (process.env.DATABASE_URL && process.env.MQTT_URL)
    modes.push({ name: 'Mosquitto + PostgreSQL', db: 'external', mqttUrl: process.env.MQTT_URL });
  return modes;
}
