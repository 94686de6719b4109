import { TOPIC_ID_PATTERN } from './topics';

/**
 * Why ingestion refused a message. Each refused message is stored in `dead_letters` with one of
 * these reasons and counted under it (`ingestion_messages_rejected_total{reason}`).
 */
export const DEAD_LETTER_REASONS = [
  /** The payload is larger than INGESTION_MAX_PAYLOAD_BYTES. */
  'payload-too-large',
  /** A JSON telemetry payload that is not valid UTF-8. */
  'invalid-utf8',
  /** A JSON telemetry payload that does not parse as JSON. */
  'not-json',
  /** A Sparkplug B payload that does not decode as the Sparkplug protobuf. */
  'not-protobuf',
  /** Valid JSON, but not the telemetry shape (missing or unknown fields, strings for numbers, ...). */
  'wrong-shape',
  /** A value that is NaN, Infinity or out of double range (e.g. `1e999`). */
  'non-finite-value',
  /** A sample stamped too far in the future or the past. */
  'timestamp-out-of-window',
  /** A machine nobody registered, when INGESTION_REQUIRE_REGISTERED=true. */
  'unknown-machine',
  /** A topic under a subscribed filter that breaks the device contract (bad ids, wrong depth). */
  'bad-topic',
  /** Sparkplug data using a metric alias no birth certificate defined. */
  'unknown-alias',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Events about a machine's connection recorded by ingestion (table `machine_events`). */
export const MACHINE_EVENT_KINDS = ['birth', 'death', 'seq-gap'] as const;
export type MachineEventKind = (typeof MACHINE_EVENT_KINDS)[number];

/**
 * Machine id of a Sparkplug B edge node or device (ARCHITECTURE.md: edge node + device -> machine):
 * `<edgeNode>` for node-level metrics, `<edgeNode>.<device>` for a device. `null` when the ids
 * cannot form a machine id (see {@link TOPIC_ID_PATTERN}).
 */
export function sparkplugMachineId(edgeNode: string, device?: string): string | null {
  const id = device === undefined ? edgeNode : `${edgeNode}.${device}`;
  return TOPIC_ID_PATTERN.test(id) ? id : null;
}

/**
 * Sensor name of a Sparkplug metric name (`Motor/Temperature 1` -> `Motor.Temperature_1`):
 * `/` becomes `.`, other characters outside the sensor-name alphabet become `_`, at most 64.
 */
export function sparkplugSensorName(metricName: string): string {
  return metricName
    .replace(/\//g, '.')
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, 64);
}
