import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { GroundTruthWriter } from '../plant/ground-truth';
import type { OutgoingMessage, Plant, PlantStats } from '../plant/plant';

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
  /** Called after every step with the counts so far. */
  onTick?: (stats: PlantStats, plant: Plant) => void;
}

/**
 * Paces a {@link Plant} against the clock and publishes its messages: one MQTT connection for
 * JSON telemetry, one per Sparkplug edge node with its NDEATH registered as the will (so an
 * unclean disconnect announces the node's death) and published explicitly on a clean stop.
 * The message stream depends only on the plant's seed and options, not on the pacing: a step
 * that runs late is followed by steps back to back.
 */
export class SimulationRunner {
  private readonly clients = new Map<string, MqttClient>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private done!: Promise<void>;
  private resolveDone!: () => void;
  private lastError: Error | undefined;

  constructor(
    readonly plant: Plant,
    readonly options: RunnerOptions,
  ) {}

  /** Connects every client; rejects with a one-line error when the broker is unreachable. */
  async start(): Promise<void> {
    const suffix = randomBytes(3).toString('hex');
    for (const c of this.plant.clients()) {
      const client = await mqtt
        .connectAsync(this.options.url, {
          clientId: `${this.options.clientIdPrefix}-sim-${c.name}-${suffix}`,
          username: this.options.username,
          password: this.options.password,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
          ...(c.will && { will: { topic: c.will.topic, payload: c.will.payload, qos: 1, retain: false } }),
        })
        .catch((err: Error) => {
          throw new Error(`simulator: cannot connect to the MQTT broker at ${this.options.url}: ${err.message}`);
        });
      this.clients.set(c.name, client);
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
        this.options.onTick?.(this.plant.stats, this.plant);
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

  private async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const qos = this.options.qos;
    await Promise.all(
      messages.map((m) => this.clients.get(m.client)!.publishAsync(m.topic, m.payload, { qos, retain: false })),
    );
  }

  /** Stops stepping, announces every edge node's death (NDEATH), and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    this.resolveDone?.();
    try {
      await this.publish(this.plant.stop().filter((m) => this.clients.has(m.client)));
    } catch {
      // the broker may be gone already; the will announces the deaths then
    }
    await Promise.all([...this.clients.values()].map((c) => c.endAsync().catch(() => undefined)));
    this.clients.clear();
  }
}
