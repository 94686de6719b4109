/**
 * MQTT topic names of the device contract (ARCHITECTURE.md, "Device contract") and of the
 * platform's internal events. Build and parse topics only through these helpers.
 */

/** Identifiers that appear in topics: no MQTT wildcards or separators, at most 128 characters. */
export const TOPIC_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export const telemetryTopic = (plantId: string, machineId: string) =>
  `plants/${plantId}/machines/${machineId}/telemetry`;
export const twinTopic = (plantId: string, machineId: string) => `plants/${plantId}/machines/${machineId}/twin`;
export const alertsTopic = (plantId: string) => `plants/${plantId}/alerts`;

/** Subscription filter for every machine's JSON telemetry. */
export const TELEMETRY_FILTER = 'plants/+/machines/+/telemetry';
/** Subscription filter for Sparkplug B traffic. */
export const SPARKPLUG_FILTER = 'spBv1.0/#';

export interface MachineAddress {
  plantId: string;
  machineId: string;
}

/** Parses `plants/{plantId}/machines/{machineId}/telemetry`; `null` when the topic is not one. */
export function parseTelemetryTopic(topic: string): MachineAddress | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'plants' || parts[2] !== 'machines' || parts[4] !== 'telemetry') return null;
  const [, plantId, , machineId] = parts;
  if (!TOPIC_ID_PATTERN.test(plantId) || !TOPIC_ID_PATTERN.test(machineId)) return null;
  return { plantId, machineId };
}

export const SPARKPLUG_MESSAGE_TYPES = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'DBIRTH',
  'DDATA',
  'DDEATH',
  'NCMD',
  'DCMD',
  'STATE',
] as const;
export type SparkplugMessageType = (typeof SPARKPLUG_MESSAGE_TYPES)[number];

export interface SparkplugAddress {
  group: string;
  messageType: SparkplugMessageType;
  edgeNode: string;
  device?: string;
}

/** Parses `spBv1.0/{group}/{type}/{edgeNode}[/{device}]`; `null` when the topic is not one. */
export function parseSparkplugTopic(topic: string): SparkplugAddress | null {
  const parts = topic.split('/');
  if (parts[0] !== 'spBv1.0' || parts.length < 4 || parts.length > 5) return null;
  const [, group, type, edgeNode, device] = parts;
  if (!(SPARKPLUG_MESSAGE_TYPES as readonly string[]).includes(type)) return null;
  if (!group || !edgeNode || (parts.length === 5 && !device)) return null;
  return { group, messageType: type as SparkplugMessageType, edgeNode, device };
}

/**
 * Internal events between apps. They travel over MQTT through `@nestjs/microservices`
 * (`ClientProxy.emit` / `@EventPattern`), under a prefix devices are not allowed to use.
 */
export const InternalEvent = {
  /** ingestion -> twin: a batch of readings was committed. Payload: {@link ReadingsStoredEvent}. */
  ReadingsStored: 'continuum/events/readings-stored',
  /** twin -> alerting, api: a twin was updated. Payload: {@link TwinMessage}. */
  TwinUpdated: 'continuum/events/twin-updated',
  /** alerting -> api: an alert changed state. Payload: {@link AlertMessage}. */
  AlertChanged: 'continuum/events/alert-changed',
  /** training -> api: a training job progressed or finished. Payload: {@link TrainingProgressEvent}. */
  TrainingProgress: 'continuum/events/training-progress',
  /** api -> twin: an admin reset a machine's twin; drop its in-memory state. Payload: {@link TwinResetEvent}. */
  TwinReset: 'continuum/events/twin-reset',
} as const;
export type InternalEventName = (typeof InternalEvent)[keyof typeof InternalEvent];
