import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import type { SensorDef } from '../models';

const sparkplug = getSparkplug('spBv1.0')!;

/** A device (machine) under an edge node. */
export interface SparkplugDevice {
  device: string;
  sensors: readonly Pick<SensorDef, 'name' | 'unit' | 'failureThreshold'>[];
  /** First alias of the device's metrics (aliases are unique per edge node). */
  aliasBase: number;
}

/**
 * Encodes the Sparkplug B messages of one edge node (a plant cell) with Eclipse Tahu's
 * `sparkplug-payload`: NBIRTH (bdSeq, Node Control/Rebirth), DBIRTH per device (every metric
 * with its name, alias, unit and failure thresholds as properties), DDATA with aliases only and
 * one timestamp per metric, DDEATH, and the NDEATH registered as the MQTT will. `seq` runs
 * 0..255 per node from the NBIRTH; `bdSeq` ties NBIRTH to NDEATH.
 * Topics: `spBv1.0/{group}/{type}/{edgeNode}[/{device}]`.
 */
export class SparkplugEdgeNode {
  private seq = 0;
  private readonly devices = new Map<string, SparkplugDevice>();

  constructor(
    readonly group: string,
    readonly edgeNode: string,
    readonly bdSeq = 0,
  ) {}

  addDevice(device: SparkplugDevice): void {
    this.devices.set(device.device, device);
  }

  private topic(type: string, device?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.edgeNode}${device ? `/${device}` : ''}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  /** The NDEATH to register as the MQTT will (and to publish on a clean stop). */
  death(timestamp: number): { topic: string; payload: Buffer } {
    return {
      topic: this.topic('NDEATH'),
      payload: encode({ timestamp, metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq }] }),
    };
  }

  nodeBirth(timestamp: number): { topic: string; payload: Buffer } {
    this.seq = 0;
    return {
      topic: this.topic('NBIRTH'),
      payload: encode({
        timestamp,
        seq: this.nextSeq(),
        metrics: [
          { name: 'bdSeq', type: 'UInt64', value: this.bdSeq, timestamp },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp },
        ],
      }),
    };
  }

  deviceBirth(device: string, timestamp: number): { topic: string; payload: Buffer } {
    const d = this.devices.get(device)!;
    const metrics: UMetric[] = d.sensors.map((s, i) => ({
      name: s.name,
      alias: d.aliasBase + i,
      type: 'Double',
      value: null,
      isNull: true,
      timestamp,
      properties: {
        engUnit: { type: 'String', value: s.unit ?? '' },
        ...(s.failureThreshold?.above !== undefined && {
          failureAbove: { type: 'Double', value: s.failureThreshold.above },
        }),
        ...(s.failureThreshold?.below !== undefined && {
          failureBelow: { type: 'Double', value: s.failureThreshold.below },
        }),
      },
    }));
    return { topic: this.topic('DBIRTH', device), payload: encode({ timestamp, seq: this.nextSeq(), metrics }) };
  }

  deviceData(
    device: string,
    timestamp: number,
    readings: readonly { t: number; sensor: string; value: number }[],
  ): { topic: string; payload: Buffer } {
    const d = this.devices.get(device)!;
    const metrics: UMetric[] = readings.map((r) => ({
      alias: d.aliasBase + d.sensors.findIndex((s) => s.name === r.sensor),
      type: 'Double',
      value: r.value,
      timestamp: r.t,
    }));
    return { topic: this.topic('DDATA', device), payload: encode({ timestamp, seq: this.nextSeq(), metrics }) };
  }

  deviceDeath(device: string, timestamp: number): { topic: string; payload: Buffer } {
    return { topic: this.topic('DDEATH', device), payload: encode({ timestamp, seq: this.nextSeq() }) };
  }
}

function encode(payload: UPayload): Buffer {
  return Buffer.from(sparkplug.encodePayload(payload));
}

/** Decodes a Sparkplug B payload (tests, tools). */
export function decodeSparkplug(payload: Uint8Array): UPayload {
  return sparkplug.decodePayload(payload);
}
