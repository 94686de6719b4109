import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import {
  InternalEvent,
  type AlertMessage,
  type ReadingsStoredEvent,
  type TrainingProgressEvent,
  type TwinMessage,
} from '@continuum/contracts';

/** Injection token of the `@nestjs/microservices` MQTT client that carries internal events. */
export const EVENT_BUS_CLIENT = Symbol('EVENT_BUS_CLIENT');

/** Each internal event and the payload it carries. */
export interface InternalEventMap {
  [InternalEvent.ReadingsStored]: ReadingsStoredEvent;
  [InternalEvent.TwinUpdated]: TwinMessage;
  [InternalEvent.AlertChanged]: AlertMessage;
  [InternalEvent.TrainingProgress]: TrainingProgressEvent;
}

/**
 * Emits internal events between apps (over MQTT, through `@nestjs/microservices`). Typed: an
 * event name only accepts its own payload. Receivers use `@EventPattern(InternalEvent.X)`.
 */
@Injectable()
export class EventBus {
  constructor(@Inject(EVENT_BUS_CLIENT) private readonly client: ClientProxy) {}

  /** Resolves once the broker has accepted the event (QoS 1). */
  async emit<E extends keyof InternalEventMap>(event: E, payload: InternalEventMap[E]): Promise<void> {
    await lastValueFrom(this.client.emit(event, payload), { defaultValue: undefined });
  }
}
