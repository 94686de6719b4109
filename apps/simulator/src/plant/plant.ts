import { telemetryTopic } from '@continuum/contracts';
import { CmapssEngine, readCmapss } from '../cmapss/cmapss-engine';
import { plantModels, type MotorFidelity, type SensorDef } from '../models';
import { SparkplugEdgeNode } from '../protocols/sparkplug.encoder';
import { Rng } from '../random/rng';
import { NO_FAULTS, type FaultPlan } from './faults';
import type { GroundTruthRecord } from './ground-truth';
import { DEFAULT_BEHAVIOUR, SimulatedMachine, type MachineBehaviour, type MachineStep, type Sample } from './machine';
import { DEFAULT_NETWORK, MachineLink, type NetworkOptions } from './network';

export type Protocol = 'json' | 'sparkplug';

/** Options of a simulated plant. */
export interface PlantOptions {
  plantId: string;
  seed: number | string;
  /** Number of physical machines (pumps, motors, compressors in turn). */
  machines: number;
  /** Protocol of every machine, or `mixed` (every other machine speaks Sparkplug B). */
  protocol: Protocol | 'mixed';
  /** Epoch milliseconds of simulated time 0. */
  startMs: number;
  /** Machines per Sparkplug edge node (plant cell). */
  cellSize: number;
  faults: FaultPlan;
  network: NetworkOptions;
  behaviour: MachineBehaviour;
  /** Probability that a published message is followed by a deliberately malformed one. */
  malformedRate: number;
  motorFidelity: MotorFidelity;
  /** Simulated horizon for pre-drawn random faults (s). */
  horizon: number;
  cmapss?: { file: string; interval: number; dropRate: number; limit?: number };
}

export const DEFAULT_PLANT: PlantOptions = {
  plantId: 'plant-1',
  seed: 1,
  machines: 6,
  protocol: 'json',
  startMs: Date.UTC(2026, 0, 1),
  cellSize: 10,
  faults: NO_FAULTS,
  network: DEFAULT_NETWORK,
  behaviour: DEFAULT_BEHAVIOUR,
  malformedRate: 0,
  motorFidelity: 'reduced',
  horizon: 365 * 86400,
};

/** One MQTT message to publish, on the connection named by `client` (`json` or an edge node). */
export interface OutgoingMessage {
  client: string;
  topic: string;
  payload: Buffer;
  kind: 'data' | 'birth' | 'death' | 'malformed';
  machineId?: string;
  /** Readings (sensor values) carried. */
  readings: number;
}

/** What a machine looks like to the platform: id, type, sensors and how it publishes. */
export interface SimulatedMachineInfo {
  machineId: string;
  plantId: string;
  assetType: string;
  sensors: { name: string; unit?: string; failureThreshold?: { above?: number; below?: number } }[];
  protocol: Protocol;
  sparkplug?: { group: string; edgeNode: string; device: string };
}

interface Source {
  machineId: string;
  assetType: string;
  sensors: readonly Pick<SensorDef, 'name' | 'unit' | 'failureThreshold'>[];
  failedAt: number | null;
  advance(tEnd: number): MachineStep;
}

interface Delivery {
  arrival: number;
  order: number;
  machineId: string;
  kind: 'sample' | 'birth' | 'death';
  sample?: Sample;
  seq?: number;
}

interface MachineSlot {
  source: Source;
  info: SimulatedMachineInfo;
  link: MachineLink;
  seq: number;
  node?: SparkplugEdgeNode;
  device?: string;
}

/** Counts since the start. */
export interface PlantStats {
  simSeconds: number;
  messages: number;
  readings: number;
  generated: number;
  lost: number;
  duplicated: number;
  malformed: number;
  failures: number;
}

/**
 * A plant of simulated machines (and optionally C-MAPSS engines) and the network they publish
 * through. `step(dt)` advances simulated time and returns the MQTT messages that arrive at the
 * broker meanwhile, in order, and the ground truth — no I/O and no clock, so a seed gives the
 * same message stream byte for byte (the runner only paces and publishes it).
 */
export class Plant {
  readonly options: PlantOptions;
  readonly slots: MachineSlot[] = [];
  readonly nodes: SparkplugEdgeNode[] = [];
  private readonly queue: Delivery[] = [];
  private order = 0;
  private started = false;
  private readonly rngMalformed: Rng;
  t = 0;
  readonly stats: PlantStats = {
    simSeconds: 0,
    messages: 0,
    readings: 0,
    generated: 0,
    lost: 0,
    duplicated: 0,
    malformed: 0,
    failures: 0,
  };

  constructor(options: Partial<PlantOptions> = {}) {
    this.options = { ...DEFAULT_PLANT, ...options };
    const o = this.options;
    const rng = new Rng(o.seed);
    this.rngMalformed = rng.fork('malformed');
    const models = plantModels(o.motorFidelity);
    const counters = new Map<string, number>();
    const sources: Source[] = [];
    for (let i = 0; i < o.machines; i++) {
      const model = models[i % models.length];
      const prefix = model.assetType.split('-').pop()!;
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      const name = `${prefix}-${String(n).padStart(4, '0')}`;
      sources.push(
        new SimulatedMachine(name, model, rng.fork(name), o.behaviour, { faultPlan: o.faults, horizon: o.horizon }),
      );
    }
    if (o.cmapss) {
      const { units, runToFailure } = readCmapss(o.cmapss.file);
      for (const unit of units.slice(0, o.cmapss.limit ?? units.length)) {
        const name = `turbofan-${String(unit.unit).padStart(3, '0')}`;
        sources.push(new CmapssEngine(name, unit, o.cmapss.interval, o.cmapss.dropRate, runToFailure, rng.fork(name)));
      }
    }
    sources.forEach((source, i) => {
      const protocol: Protocol = o.protocol === 'mixed' ? (i % 2 === 1 ? 'sparkplug' : 'json') : o.protocol;
      const device = source.machineId;
      let node: SparkplugEdgeNode | undefined;
      if (protocol === 'sparkplug') {
        const cell = `cell-${String(Math.floor(i / o.cellSize) + 1).padStart(2, '0')}`;
        node = this.nodes.find((n) => n.edgeNode === cell);
        if (!node) this.nodes.push((node = new SparkplugEdgeNode(o.plantId, cell)));
        node.addDevice({ device, sensors: source.sensors, aliasBase: (i % o.cellSize) * 100 + 1 });
      }
      // Ingestion names a Sparkplug machine `<edgeNode>.<device>` (sparkplugMachineId in contracts).
      const machineId = node ? `${node.edgeNode}.${device}` : device;
      this.slots.push({
        source,
        link: new MachineLink(o.network, rng.fork(`${device}/network`)),
        seq: 0,
        node,
        device,
        info: {
          machineId,
          plantId: o.plantId,
          assetType: source.assetType,
          sensors: source.sensors.map((s) => ({
            name: s.name,
            unit: s.unit,
            ...(s.failureThreshold && { failureThreshold: { ...s.failureThreshold } }),
          })),
          protocol,
          ...(node && { sparkplug: { group: o.plantId, edgeNode: node.edgeNode, device } }),
        },
      });
    });
  }

  /** The machines as the platform should register them. */
  get machines(): SimulatedMachineInfo[] {
    return this.slots.map((s) => s.info);
  }

  /** The MQTT clients the plant publishes through: `json`, and one per edge node with its NDEATH will. */
  clients(): { name: string; will?: { topic: string; payload: Buffer } }[] {
    return [
      ...(this.slots.some((s) => !s.node) ? [{ name: 'json' }] : []),
      ...this.nodes.map((n) => ({ name: n.edgeNode, will: n.death(this.options.startMs) })),
    ];
  }

  private ms(t: number): number {
    return this.options.startMs + Math.round(t * 1000);
  }

  private push(d: Omit<Delivery, 'order'>): void {
    // Binary heap on (arrival, order).
    const q = this.queue;
    q.push({ ...d, order: this.order++ });
    let i = q.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(q[p], q[i])) break;
      [q[p], q[i]] = [q[i], q[p]];
      i = p;
    }
  }

  private pop(): Delivery | undefined {
    const q = this.queue;
    if (q.length === 0) return undefined;
    const top = q[0];
    const last = q.pop()!;
    if (q.length > 0) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && before(q[l], q[m])) m = l;
        if (r < q.length && before(q[r], q[m])) m = r;
        if (m === i) break;
        [q[m], q[i]] = [q[i], q[m]];
        i = m;
      }
    }
    return top;
  }

  /** Advances simulated time by `dt` seconds; returns the messages published meanwhile and the ground truth. */
  step(dt: number): { messages: OutgoingMessage[]; truth: GroundTruthRecord[] } {
    const messages: OutgoingMessage[] = [];
    const truth: GroundTruthRecord[] = [];
    if (!this.started) {
      this.started = true;
      for (const node of this.nodes)
        messages.push({ client: node.edgeNode, ...node.nodeBirth(this.ms(0)), kind: 'birth', readings: 0 });
      for (const slot of this.slots)
        if (slot.node)
          messages.push({
            client: slot.node.edgeNode,
            ...slot.node.deviceBirth(slot.device!, this.ms(0)),
            kind: 'birth',
            machineId: slot.info.machineId,
            readings: 0,
          });
    }
    const tEnd = this.t + dt;
    for (const slot of this.slots) {
      const step = slot.source.advance(tEnd);
      const id = slot.info.machineId;
      for (const r of step.truth) truth.push({ ...r, machineId: id });
      for (const sample of step.samples) {
        this.stats.generated++;
        const outage = slot.link.down(sample.t);
        if (outage) {
          this.stats.lost++;
          if (
            outage.start >= this.t - this.options.network.maxDelay &&
            !truth.some((r) => r.type === 'outage' && r.machineId === id && r.start === outage.start)
          )
            truth.push({ type: 'outage', machineId: id, t: outage.start, start: outage.start, end: outage.end });
          continue;
        }
        const arrivals = slot.link.arrivals(sample.t);
        if (arrivals.length === 0) this.stats.lost++;
        if (arrivals.length > 1) this.stats.duplicated++;
        const seq = slot.seq++;
        for (const arrival of arrivals)
          this.push({ arrival, machineId: id, kind: 'sample', sample: { ...sample, machineId: id }, seq });
      }
      if (step.died !== undefined) {
        this.stats.failures++;
        // Announced after every reading taken before the failure has arrived.
        this.push({ arrival: step.died + this.options.network.maxDelay + 1, machineId: id, kind: 'death' });
      }
      if (step.reborn !== undefined) this.push({ arrival: step.reborn, machineId: id, kind: 'birth' });
    }
    // Deliver in arrival order; the readings of a machine that arrive within one step go out in
    // one message (at most 500 readings each), births and deaths between them in order.
    const bySlot = new Map(this.slots.map((s) => [s.info.machineId, s]));
    const pending = new Map<string, Delivery[]>();
    const flush = (machineId: string) => {
      const batch = pending.get(machineId);
      if (batch?.length) messages.push(...this.encodeData(bySlot.get(machineId)!, batch, tEnd));
      pending.delete(machineId);
    };
    while (this.queue.length && this.queue[0].arrival <= tEnd) {
      const d = this.pop()!;
      if (d.kind !== 'sample') {
        flush(d.machineId);
        const slot = bySlot.get(d.machineId)!;
        if (slot.node) {
          const at = this.ms(d.arrival);
          const m =
            d.kind === 'death' ? slot.node.deviceDeath(slot.device!, at) : slot.node.deviceBirth(slot.device!, at);
          messages.push({ client: slot.node.edgeNode, ...m, kind: d.kind, machineId: d.machineId, readings: 0 });
        }
        continue;
      }
      const batch = pending.get(d.machineId) ?? [];
      pending.set(d.machineId, batch);
      batch.push(d);
      if (batch.length >= 500) flush(d.machineId);
    }
    for (const machineId of [...pending.keys()]) flush(machineId);
    this.t = tEnd;
    this.stats.simSeconds = tEnd;
    for (const m of messages) {
      this.stats.messages++;
      this.stats.readings += m.readings;
      if (m.kind === 'malformed') {
        this.stats.malformed++;
        truth.push({ type: 'malformed', machineId: m.machineId!, t: tEnd, topic: m.topic });
      }
    }
    return { messages, truth };
  }

  private encodeData(slot: MachineSlot, batch: Delivery[], tEnd: number): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    const readings = batch.reduce((n, d) => n + Object.keys(d.sample!.values).length, 0);
    const id = slot.info.machineId;
    if (slot.node) {
      const flat = batch.flatMap((d) =>
        Object.entries(d.sample!.values).map(([sensor, value]) => ({ t: this.ms(d.sample!.t), sensor, value })),
      );
      out.push({
        client: slot.node.edgeNode,
        ...slot.node.deviceData(slot.device!, this.ms(tEnd), flat),
        kind: 'data',
        machineId: id,
        readings,
      });
    } else {
      const payload = batch.map((d) => ({ ts: this.ms(d.sample!.t), values: round(d.sample!.values), seq: d.seq }));
      out.push({
        client: 'json',
        topic: telemetryTopic(this.options.plantId, id),
        payload: Buffer.from(JSON.stringify(payload.length === 1 ? payload[0] : payload)),
        kind: 'data',
        machineId: id,
        readings,
      });
    }
    if (this.options.malformedRate > 0 && this.rngMalformed.bernoulli(this.options.malformedRate))
      out.push(this.malformed(slot, tEnd));
    return out;
  }

  private malformed(slot: MachineSlot, tEnd: number): OutgoingMessage {
    const r = this.rngMalformed;
    const id = slot.info.machineId;
    if (slot.node) {
      const garbage = Buffer.from(Array.from({ length: 16 }, () => r.int(256)));
      return {
        client: slot.node.edgeNode,
        topic: `spBv1.0/${this.options.plantId}/DDATA/${slot.node.edgeNode}/${slot.device}`,
        payload: garbage,
        kind: 'malformed',
        machineId: id,
        readings: 0,
      };
    }
    const ts = this.ms(tEnd);
    const variants = [
      `{"ts": ${ts}, "values": {"${slot.info.sensors[0].name}": `,
      JSON.stringify({ ts, values: { [slot.info.sensors[0].name]: 'NaN' } }),
      JSON.stringify({ ts, values: {} }),
      JSON.stringify({ values: { [slot.info.sensors[0].name]: 1 } }),
      'not json at all',
    ];
    return {
      client: 'json',
      topic: telemetryTopic(this.options.plantId, id),
      payload: Buffer.from(r.pick(variants)),
      kind: 'malformed',
      machineId: id,
      readings: 0,
    };
  }

  /** Messages that end the plant cleanly: the NDEATH of every edge node. */
  stop(): OutgoingMessage[] {
    return this.nodes.map((n) => ({ client: n.edgeNode, ...n.death(this.ms(this.t)), kind: 'death', readings: 0 }));
  }

  /** Machines down right now (failed, not yet repaired; C-MAPSS engines after their last cycle). */
  get failedNow(): number {
    return this.slots.filter((s) => s.source.failedAt !== null).length;
  }
}

function before(a: Delivery, b: Delivery): boolean {
  return a.arrival < b.arrival || (a.arrival === b.arrival && a.order < b.order);
}

/** Six significant decimals are more than any of these sensors resolves, and keep payloads small. */
function round(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) out[k] = Math.round(v * 1e6) / 1e6;
  return out;
}
