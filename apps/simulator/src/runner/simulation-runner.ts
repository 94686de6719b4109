import { randomBytes } from 'node:crypto';
import { MqttConnection } from '@continuum/messaging';
import type { GroundTruthWriter } from '../plant/ground-truth';
import type { OutgoingMessage, Plant, PlantStats } from '../plant/plant';
import { StoreAndForwardPublisher, type DeliveryStats, type StoreAndForwardOptions } from './store-and-forward';

/** How a plant is run against a broker. */
export interface RunnerOptions {
  url: string;
  username?: string;
  password?: string;
  /** Prefix of the MQTT client ids (`<prefix>-sim-<client>-<random>`). */
  clientIdPrefix: string;
  qos: 0 | 1;
  /** Simulated seconds per real second (1 = real time, 3600 = an hour a second). */
  speed: number;
  /** Real milliseconds between steps. */
  tickMs: number;
  /** Never run simulated time past the wall clock: accelerated until caught up, then real time. */
  catchUp: boolean;
  /** Stop after this many simulated seconds. */
  duration?: number;
  groundTruth?: GroundTruthWriter;
  /** Store-and-forward of messages an MQTT 5 broker acknowledged with "No matching subscribers". */
  storeAndForward?: StoreAndForwardOptions;
  /** Called after every step with the counts so far (`delivery`: all connections together). */
  onTick?: (stats: PlantStats, plant: Plant, delivery: DeliveryStats) => void;
}

/**
 * Paces a {@link Plant} against the clock and publishes its messages: one MQTT connection for
 * JSON telemetry, one per Sparkplug edge node with its NDEATH registered as the will (so an
 * unclean disconnect announces the node's death) and published explicitly on a clean stop.
 * The message stream depends only on the plant's seed and options, not on the pacing: a step
 * that runs late is followed by steps back to back.
 *
 * Connections speak MQTT 5 where the broker does (else 3.1.1, e.g. the embedded aedes), and
 * publish like devices with store-and-forward ({@link StoreAndForwardPublisher}): a QoS 1 message
 * the broker acknowledged with 0x10 "No matching subscribers" is kept and re-sent, per machine
 * (JSON) or edge node (Sparkplug) in order, until a subscriber takes it.
 */
export class SimulationRunner {
  private readonly clients = new Map<string, StoreAndForwardPublisher>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private done!: Promise<void>;
  private resolveDone!: () => void;
  private lastError: Error | undefined;
  private finalDelivery: DeliveryStats | undefined;

  constructor(
    readonly plant: Plant,
    readonly options: RunnerOptions,
  ) {}

  /** Connects every client; rejects with a one-line error when the broker is unreachable. */
  async start(): Promise<void> {
    const suffix = randomBytes(3).toString('hex');
    for (const c of this.plant.clients()) {
      const connection = await MqttConnection.open({
        url: this.options.url,
        clientId: `${this.options.clientIdPrefix}-sim-${c.name}-${suffix}`,
        username: this.options.username,
        password: this.options.password,
        protocolVersions: [5, 4],
        minReconnectMs: 250,
        maxReconnectMs: 1000,
        connectTimeoutMs: 10_000,
        ...(c.will && { will: { topic: c.will.topic, payload: c.will.payload, qos: 1, retain: false } }),
      }).catch((err: Error) => {
        throw new Error(`simulator: cannot connect to the MQTT broker at ${this.options.url}: ${err.message}`);
      });
      this.clients.set(c.name, new StoreAndForwardPublisher(connection, this.options.storeAndForward));
    }
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const started = Date.now();
    let ticks = 0;
    const loop = async () => {
      if (this.stopping) return;
      try {
        let dt = (this.options.speed * this.options.tickMs) / 1000;
        if (this.options.catchUp) {
          const wallSim = (Date.now() - this.plant.options.startMs) / 1000;
          dt = Math.max(0, Math.min(dt, wallSim - this.plant.t));
        }
        if (this.options.duration !== undefined) dt = Math.min(dt, this.options.duration - this.plant.t);
        if (dt > 0) {
          const { messages, truth } = this.plant.step(dt);
          this.options.groundTruth?.write(truth);
          await this.publish(messages);
        }
        this.options.onTick?.(this.plant.stats, this.plant, this.delivery);
        if (this.options.duration !== undefined && this.plant.t >= this.options.duration) {
          this.resolveDone();
          return;
        }
      } catch (err) {
        this.lastError = err as Error;
        this.resolveDone();
        return;
      }
      ticks++;
      const due = started + ticks * this.options.tickMs;
      this.timer = setTimeout(() => void loop(), Math.max(0, due - Date.now()));
    };
    void loop();
  }

  /** Resolves when the duration has been simulated (never without one); rejects on a publish error. */
  async finished(): Promise<void> {
    await this.done;
    if (this.lastError) throw this.lastError;
  }

  /** Delivery counts of all connections together (re-sends, held, dropped...). */
  get delivery(): DeliveryStats {
    if (this.finalDelivery) return this.finalDelivery;
    const total: DeliveryStats = { sent: 0, delivered: 0, noSubscribers: 0, resent: 0, held: 0, dropped: 0, failed: 0 };
    for (const c of this.clients.values())
      for (const k of Object.keys(total) as (keyof DeliveryStats)[]) total[k] += c.stats[k];
    return total;
  }

  private async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const qos = this.options.qos;
    await Promise.all(
      messages.map((m) =>
        // A device is a machine on the JSON connection, an edge node (its own connection) in Sparkplug.
        this.clients
          .get(m.client)!
          .publish(m.client === 'json' ? `json/${m.machineId}` : m.client, m.topic, m.payload, qos),
      ),
    );
  }

  /**
   * Stops stepping, re-sends what is held for up to `flushMs`, announces every edge node's death
   * (NDEATH), and disconnects.
   */
  async stop(flushMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    this.resolveDone?.();
    await Promise.all([...this.clients.values()].map((c) => c.flush(flushMs)));
    try {
      await this.publish(this.plant.stop().filter((m) => this.clients.has(m.client)));
    } catch {
      // the broker may be gone already; the will announces the deaths then
    }
    for (const c of this.clients.values()) c.close();
    this.finalDelivery = this.delivery;
    await Promise.all([...this.clients.values()].map((c) => c.connection.close().catch(() => undefined)));
    this.clients.clear();
  }
}
