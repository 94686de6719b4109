import { Injectable } from '@nestjs/common';
import { InternalEvent, twinTopic } from '@continuum/contracts';
import { EventBus, MqttConnection } from '@continuum/messaging';
import type { TwinUpdate } from '../engine/twin-processor';

/** Where twin updates go: `plants/{plantId}/machines/{machineId}/twin` (MQTT) and `TwinUpdated` (internal bus). */
export abstract class TwinPublisher {
  abstract publish(updates: readonly TwinUpdate[]): Promise<void>;
}

/** Publishes over the process's MQTT connection and the typed event bus (QoS 1 both). */
@Injectable()
export class MqttTwinPublisher extends TwinPublisher {
  constructor(
    private readonly mqtt: MqttConnection,
    private readonly bus: EventBus,
  ) {
    super();
  }

  async publish(updates: readonly TwinUpdate[]): Promise<void> {
    await Promise.all(
      updates.flatMap((u) => [
        this.mqtt.publish(twinTopic(u.machine.plantId, u.machine.id), JSON.stringify(u.message)),
        this.bus.emit(InternalEvent.TwinUpdated, u.message),
      ]),
    );
  }
}
