import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MqttConnection } from './mqtt-connection';

/** `broker: up` while this process's MQTT connection is established. */
@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly connection: MqttConnection,
  ) {}

  check(key = 'broker') {
    const session = this.health.check(key);
    return this.connection.connected ? session.up() : session.down({ message: 'not connected to the MQTT broker' });
  }
}
