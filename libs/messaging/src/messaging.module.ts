import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ClientsModule, Transport, type MqttOptions } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { BrokerHealthIndicator } from './broker.health';
import { EventBus, EVENT_BUS_CLIENT } from './event-bus';
import { MqttConnection } from './mqtt-connection';

/** Where this process's broker is, and who it is. */
export interface MessagingOptions {
  url: string;
  /** Role of the process (platform, ingestion, ...), part of its client ids. */
  role: string;
  clientIdPrefix?: string;
  username?: string;
  password?: string;
  /** PEM CA certificate(s) trusted for `mqtts://`/`wss://` (MQTT_TLS_CA_FILE), besides the system's. */
  ca?: Buffer;
}

/** A fresh MQTT client id: prefix, role, purpose and a random suffix (client ids must be unique). */
export function clientId(options: MessagingOptions, purpose: string): string {
  return `${options.clientIdPrefix ?? 'continuum'}-${options.role}-${purpose}-${randomBytes(4).toString('hex')}`;
}

/** `@nestjs/microservices` MQTT options for the internal event transport, client and server side. */
export function eventTransportOptions(options: MessagingOptions, purpose: 'events-out' | 'events-in'): MqttOptions {
  return {
    transport: Transport.MQTT,
    options: {
      url: options.url,
      clientId: clientId(options, purpose),
      username: options.username,
      password: options.password,
      ...(options.ca && { ca: options.ca }),
      subscribeOptions: { qos: 1 },
      reconnectPeriod: 1000,
    },
  };
}

/**
 * MQTT for a Continuum process: its {@link MqttConnection} for device-facing topics (opened by
 * the process before Nest starts, closed by it after Nest stops), the typed {@link EventBus} for
 * internal events, and the broker health indicator.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions, connection: MqttConnection): DynamicModule {
    return {
      module: MessagingModule,
      imports: [
        TerminusModule,
        ClientsModule.register([{ name: EVENT_BUS_CLIENT, ...eventTransportOptions(options, 'events-out') }]),
      ],
      providers: [{ provide: MqttConnection, useValue: connection }, EventBus, BrokerHealthIndicator],
      exports: [MqttConnection, EventBus, BrokerHealthIndicator],
    };
  }
}
