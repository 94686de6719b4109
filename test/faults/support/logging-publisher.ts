import { MqttConnection } from '@continuum/messaging';
import { Plant, StoreAndForwardPublisher, type SimulatedMachineInfo } from '../../../apps/simulator/src';

/** One sample of a JSON telemetry message (a message holds one or an array of them). */
interface Sample {
  ts: number | string;
  values: Record<string, number>;
}

/** A reading as stored: (machine, sensor, time in ms). */
export const readingKey = (machine: string, sensor: string, ms: number) => `${machine}|${sensor}|${ms}`;

export interface PublisherOptions {
  url: string;
  clientId: string;
  plantId: string;
  machines: number;
  /** Simulated seconds per real second. */
  speed: number;
  /** Simulated start (ms); keep start + speed x run time in the past (ingestion refuses the future). */
  startMs: number;
  tickMs?: number;
}

/**
 * The fault suite's device side: the simulated plant (apps/simulator, no network loss, duplicates or
 * outages, so that every message it generates is published) published with QoS 1 at a steady pace
 * through one MQTT 5 client, with the simulator's store-and-forward (StoreAndForwardPublisher: a
 * message acknowledged with PUBACK 0x10 "No matching subscribers" is re-sent until delivered), and
 * a log of every reading whose message got a PUBACK saying it was delivered (reason code < 0x80,
 * not 0x10). That log is what the suite counts stored readings against. The client reconnects by
 * itself (mqtt.js resends unacknowledged QoS 1 messages after a reconnect), so the publisher rides
 * out broker restarts.
 *
 * It can also clone one machine's stream under a new machine id with an offset on one sensor (a
 * machine that diverges from its twin at once), so that each fault gets an alert to raise.
 */
export class LoggingPublisher {
  readonly plant: Plant;
  private connection!: MqttConnection;
  /** Delivery counts (PUBACKs 0x10, re-sends, held...): `devices.stats`. */
  devices!: StoreAndForwardPublisher;
  private timer: NodeJS.Timeout | undefined;
  /** Readings the broker acknowledged as delivered (readingKey), with the time of that PUBACK. */
  readonly acked = new Map<string, number>();
  /** Messages generated / acknowledged as delivered / failed (publish rejected). */
  sent = 0;
  ackedMessages = 0;
  failed = 0;
  private readonly clones: { machineId: string; from: string; sensor: string; offset: number }[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: PublisherOptions) {
    this.plant = new Plant({
      plantId: options.plantId,
      machines: options.machines,
      protocol: 'json',
      seed: 13,
      startMs: options.startMs,
      network: {
        dropRate: 0,
        duplicateRate: 0,
        medianDelay: 1,
        delaySigma: 0.5,
        maxDelay: 10,
        outagesPerDay: 0,
        meanOutage: 1,
      },
      faults: { scheduled: [], randomPerDay: 0, meanDuration: 3600 },
    });
  }

  /** The MQTT version connected with: 5 (PUBACK reason codes, store-and-forward) or 4 (3.1.1). */
  get protocolVersion(): 4 | 5 {
    return this.connection.protocolVersion;
  }

  get machines(): SimulatedMachineInfo[] {
    return this.plant.machines;
  }

  async start(): Promise<void> {
    this.connection = await MqttConnection.open({
      url: this.options.url,
      clientId: this.options.clientId,
      // MQTT 3.1.1 where the broker has no MQTT 5 (the embedded aedes of the disk-full test).
      protocolVersions: [5, 4],
      minReconnectMs: 250,
      maxReconnectMs: 250,
      connectTimeoutMs: 5000,
    });
    this.devices = new StoreAndForwardPublisher(this.connection);
    const tick = this.options.tickMs ?? 200;
    this.timer = setInterval(() => this.step((tick / 1000) * this.options.speed), tick);
  }

  /**
   * From now on, also publish `from`'s messages as machine `machineId` (register it first with
   * `from`'s asset type and sensors) with `offset` added to `sensor`.
   */
  clone(machineId: string, from: string, sensor: string, offset: number): void {
    this.clones.push({ machineId, from, sensor, offset });
  }

  private step(dt: number): void {
    for (const m of this.plant.step(dt).messages) {
      if (m.kind !== 'data' || !m.machineId) continue;
      this.publish(m.topic, m.machineId, m.payload);
      for (const c of this.clones.filter((x) => x.from === m.machineId)) {
        const body = JSON.parse(m.payload.toString()) as Sample | Sample[];
        for (const sample of Array.isArray(body) ? body : [body])
          if (sample.values[c.sensor] !== undefined) sample.values[c.sensor] += c.offset;
        this.publish(
          m.topic.replace(`/machines/${m.machineId}/`, `/machines/${c.machineId}/`),
          c.machineId,
          Buffer.from(JSON.stringify(body)),
        );
      }
    }
  }

  private publish(topic: string, machineId: string, payload: Buffer): void {
    const body = JSON.parse(payload.toString()) as Sample | Sample[];
    const keys: string[] = [];
    for (const sample of Array.isArray(body) ? body : [body]) {
      const ms = typeof sample.ts === 'number' ? sample.ts : Date.parse(sample.ts);
      for (const sensor of Object.keys(sample.values)) keys.push(readingKey(machineId, sensor, ms));
    }
    this.sent++;
    const delivered = () => {
      this.ackedMessages++;
      const now = Date.now();
      for (const key of keys) this.acked.set(key, now);
    };
    const p = this.devices.publish(machineId, topic, payload, 1, delivered).catch(() => void this.failed++);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Stops generating; waits (up to `timeoutMs`) for the PUBACKs of what was sent and for held messages to be re-sent. */
  async stop(timeoutMs = 30_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await this.devices.flush(Math.max(0, deadline - Date.now()));
    this.devices.close();
    await this.connection.client.endAsync(true);
  }
}
