import { InternalEvent, twinTopic } from '@continuum/contracts';
import { EventBus, MqttConnection } from '@continuum/messaging';
import type { TwinUpdate } from '../engine/twin-processor';
import { PublishWindow } from './publish-window';

/** Where twin updates go: `plants/{plantId}/machines/{machineId}/twin` (MQTT) and `TwinUpdated` (internal bus). */
export abstract class TwinPublisher {
  /** Publishes `updates`; resolves once every one of them is acknowledged. */
  abstract publish(updates: readonly TwinUpdate[]): Promise<void>;

  /**
   * Updates handed to {@link publish} and not settled yet (being sent and awaiting acknowledgement, or
   * waiting for room in the window). The batch loop fetches no new batch while this is at
   * {@link window} or more. 0 for a publisher that does not track them.
   */
  get backlog(): number {
    return 0;
  }

  /** Most updates in flight at once (TWIN_PUBLISH_MAX_INFLIGHT); Infinity for a publisher without a bound. */
  get window(): number {
    return Infinity;
  }

  /** Resolves once {@link backlog} is at most `atMost`. */
  whenBacklogAtMost(atMost: number): Promise<void> {
    void atMost;
    return Promise.resolve();
  }
}

/**
 * Publishes over the process's MQTT connection and the typed event bus (QoS 1 both), at most
 * `window` updates (each one message on either client) in flight at a time: the rest wait here, in
 * order, so that a slow broker never has more than `window` unacknowledged messages piled up in
 * either mqtt.js client (mqtt.js allows 1000 'drain' listeners on a socket before warning). Built by
 * TwinModule with TWIN_PUBLISH_MAX_INFLIGHT.
 */
export class MqttTwinPublisher extends TwinPublisher {
  private readonly inFlight: PublishWindow;

  constructor(
    private readonly mqtt: MqttConnection,
    private readonly bus: EventBus,
    window: number,
  ) {
    super();
    this.inFlight = new PublishWindow(window);
  }

  override get backlog(): number {
    return this.inFlight.backlog;
  }

  override get window(): number {
    return this.inFlight.limit;
  }

  override whenBacklogAtMost(atMost: number): Promise<void> {
    return this.inFlight.whenBacklogAtMost(atMost);
  }

  async publish(updates: readonly TwinUpdate[]): Promise<void> {
    await Promise.all(
      updates.map((u) =>
        this.inFlight.run(async () => {
          await Promise.all([
            this.mqtt.publish(twinTopic(u.machine.plantId, u.machine.id), JSON.stringify(u.message)),
            this.bus.emit(InternalEvent.TwinUpdated, u.message),
          ]);
        }),
      ),
    );
  }
}
