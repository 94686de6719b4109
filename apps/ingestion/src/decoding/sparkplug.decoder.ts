import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { TOPIC_ID_PATTERN, sparkplugMachineId, sparkplugSensorName, type SparkplugAddress } from '@continuum/contracts';
import type { Reading } from '@continuum/persistence';
import { emptyDecoded, outsideWindow, rejected, type DecodedMessage, type TimeWindow } from './decoded-message';

const sparkplug = getSparkplug('spBv1.0')!;

/** Why a Sparkplug metric carried no reading (counted, not dead-lettered: the rest of the message is good). */
export type SkippedMetric = 'not-numeric' | 'null' | 'non-finite';

interface EdgeNodeState {
  /** Last `seq` seen from the node (0..255), null before its first message. */
  lastSeq: number | null;
  /** Metric aliases bound by births: key `<device or ''>` -> alias -> sensor name. */
  aliases: Map<string, Map<number, string>>;
  devices: Set<string>;
  /** Whether the edge node itself is a machine: it declared or sent sensor metrics of its own. */
  nodeIsMachine: boolean;
}

/** How far back a `seq` may repeat before it counts as a gap rather than a redelivery. */
const REDELIVERY_WINDOW = 32;

/**
 * Sparkplug B state of the edge nodes this instance hears from, and the decoding of their
 * messages: group -> plant, each device -> a machine ({@link sparkplugMachineId}); an edge node
 * is a machine too only if it has sensors of its own (numeric metrics in its NBIRTH or NDATA) —
 * a gateway whose births carry only `bdSeq` and `Node Control/...` is not registered;
 * metric aliases bound at NBIRTH/DBIRTH and resolved in NDATA/DDATA; the per-node `seq`
 * (0..255, wrapping) checked for gaps; NDEATH/DDEATH mark machines stale; historical metrics
 * are stored at their own timestamps.
 *
 * The state is in memory: after a restart, data with aliases from a node whose birth this
 * instance has not seen is refused as `unknown-alias`, and {@link rebirthRequests} names the
 * node so that the consumer can ask it to be born again (Sparkplug's `Node Control/Rebirth`).
 */
export class SparkplugDecoder {
  private readonly nodes = new Map<string, EdgeNodeState>();
  /** Seq gaps seen since start. */
  gaps = 0;
  readonly skipped: Record<SkippedMetric, number> = { 'not-numeric': 0, null: 0, 'non-finite': 0 };
  private readonly pendingRebirth = new Set<string>();

  constructor(private readonly window: TimeWindow) {}

  decode(address: SparkplugAddress, payload: Buffer, now: number): DecodedMessage {
    const { group, messageType: type, edgeNode, device } = address;
    if (type === 'NCMD' || type === 'DCMD' || type === 'STATE') return emptyDecoded(); // commands, not telemetry
    if (!TOPIC_ID_PATTERN.test(group)) return rejected('bad-topic', `group id "${group}" cannot be a plant id`);
    const machineId = sparkplugMachineId(edgeNode, type.startsWith('D') ? device : undefined);
    if (!machineId) return rejected('bad-topic', `"${edgeNode}/${device ?? ''}" cannot form a machine id`);
    if (type.startsWith('D') && device === undefined)
      return rejected('bad-topic', `${type} needs a device id in its topic`);
    let message: UPayload;
    try {
      message = sparkplug.decodePayload(payload);
    } catch (err) {
      return rejected('not-protobuf', `not a Sparkplug B payload: ${(err as Error).message}`);
    }
    const nodeKey = `${group}/${edgeNode}`;
    const payloadTime = toNumber(message.timestamp) ?? now;
    const out = emptyDecoded();

    if (type === 'NDEATH') {
      const node = this.nodes.get(nodeKey);
      const devices = [...(node?.devices ?? [])].map((d) => sparkplugMachineId(edgeNode, d)!);
      // A node this instance knows nothing about (it restarted since the birth) may be a machine.
      const dead = !node || node.nodeIsMachine ? [machineId, ...devices] : devices;
      for (const id of dead) {
        out.stale.push({ machineId: id, since: payloadTime });
        out.events.push({ machineId: id, plantId: group, kind: 'death', time: payloadTime, detail: { type } });
      }
      if (node) node.lastSeq = null;
      return out;
    }

    // Every other message from a node carries its seq, one more than the last (mod 256).
    const seq = toNumber(message.seq);
    let node = this.nodes.get(nodeKey);
    if (type === 'NBIRTH') {
      node = { lastSeq: null, aliases: new Map(), devices: new Set(node?.devices ?? []), nodeIsMachine: false };
      this.nodes.set(nodeKey, node);
      this.pendingRebirth.delete(nodeKey);
    }
    if (node && seq !== null) {
      if (node.lastSeq !== null && type !== 'NBIRTH') {
        const expected = (node.lastSeq + 1) % 256;
        const behind = (node.lastSeq - seq + 256) % 256;
        if (seq !== expected && behind >= REDELIVERY_WINDOW) {
          const missing = (seq - expected + 256) % 256;
          this.gaps++;
          out.events.push({
            machineId: sparkplugMachineId(edgeNode)!,
            plantId: group,
            kind: 'seq-gap',
            time: payloadTime,
            detail: { expected, got: seq, missing, type },
          });
        }
        if (behind >= REDELIVERY_WINDOW || behind === 0) node.lastSeq = seq;
      } else {
        node.lastSeq = seq;
      }
    }

    if (type === 'DDEATH') {
      out.stale.push({ machineId, since: payloadTime });
      out.events.push({ machineId, plantId: group, kind: 'death', time: payloadTime, detail: { type } });
      node?.devices.delete(device!);
      return out;
    }

    const aliasKey = device ?? '';
    const birth = type === 'NBIRTH' || type === 'DBIRTH';
    let aliases = node?.aliases.get(aliasKey);
    if (birth) {
      aliases = new Map();
      if (!node) {
        // A device born before this instance saw its node's birth: track it anyway.
        node = { lastSeq: seq, aliases: new Map(), devices: new Set(), nodeIsMachine: false };
        this.nodes.set(nodeKey, node);
      }
      node.aliases.set(aliasKey, aliases);
      if (device !== undefined) node.devices.add(device);
      out.events.push({ machineId, plantId: group, kind: 'birth', time: payloadTime, detail: { type, seq } });
    }

    const readings: Reading[] = [];
    const sensors = new Set<string>();
    for (const metric of message.metrics ?? []) {
      const alias = toNumber(metric.alias);
      let sensor: string | undefined;
      if (metric.name) {
        sensor = sparkplugSensorName(metric.name);
        if (birth && alias !== null) aliases!.set(alias, sensor);
      } else if (alias !== null) {
        sensor = aliases?.get(alias);
        if (sensor === undefined) {
          this.pendingRebirth.add(nodeKey);
          return rejected('unknown-alias', `alias ${alias} of ${machineId} was not defined by a birth seen here`);
        }
      } else {
        return rejected('wrong-shape', 'a metric with neither name nor alias');
      }
      if (!sensor) return rejected('wrong-shape', 'a metric with an empty name');
      // Properties and control metrics (bdSeq, Node Control/...) are not sensor readings.
      if (metric.name === 'bdSeq' || metric.name?.startsWith('Node Control/')) continue;
      // A birth declares its numeric metrics as the machine's sensors, even those without a value yet.
      if (birth && NUMERIC_TYPES.has(String(metric.type))) sensors.add(sensor);
      const value = metricValue(metric);
      if (typeof value === 'string') {
        this.skipped[value]++;
        continue;
      }
      const time = toNumber(metric.timestamp) ?? payloadTime;
      const outside = outsideWindow(time, now, this.window);
      if (outside) return rejected('timestamp-out-of-window', `${sensor}: ${outside}`);
      readings.push({ machineId, sensor, time, value });
      sensors.add(sensor);
    }
    out.readings = readings;
    // A device is a machine from its birth on; an edge node only once it has sensors of its own.
    const isMachine = device !== undefined ? readings.length > 0 || birth : sensors.size > 0;
    if (isMachine) out.machines.push({ id: machineId, plantId: group, sensors: [...sensors] });
    if (device === undefined && node && sensors.size > 0) node.nodeIsMachine = true;
    return out;
  }

  /** Edge nodes (`group/edgeNode`) that sent aliases this instance cannot resolve; cleared as it reads them. */
  takeRebirthRequests(): { group: string; edgeNode: string }[] {
    const requests = [...this.pendingRebirth].map((key) => {
      const [group, edgeNode] = key.split('/');
      return { group, edgeNode };
    });
    this.pendingRebirth.clear();
    return requests;
  }
}

/** The Sparkplug `Node Control/Rebirth` command asking an edge node to publish its births again. */
export function encodeRebirthCommand(now: number): Buffer {
  return Buffer.from(
    sparkplug.encodePayload({
      timestamp: now,
      metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
    }),
  );
}

/** Sparkplug datatypes that carry a number (booleans are stored as 0/1). */
const NUMERIC_TYPES = new Set([
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
  'Boolean',
]);

function metricValue(metric: UMetric): number | SkippedMetric {
  if (metric.isNull) return 'null';
  const v = metric.value;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'non-finite';
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object' && 'low' in v && 'high' in v && typeof v.toNumber === 'function') return v.toNumber();
  return 'not-numeric';
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : v.toNumber();
}
