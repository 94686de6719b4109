import { parseSparkplugTopic, parseTelemetryTopic } from '@continuum/contracts';
import { rejected, type DecodedMessage, type TimeWindow } from './decoded-message';
import { decodeJsonTelemetry, type JsonValidation } from './json-telemetry.decoder';
import { SparkplugDecoder } from './sparkplug.decoder';

export interface MessageDecoderOptions extends TimeWindow {
  maxPayloadBytes: number;
}

/**
 * Turns one MQTT message into what to store, by topic: JSON telemetry or Sparkplug B. Pure
 * decisions (no I/O); the Sparkplug state (aliases, seq) lives in {@link SparkplugDecoder}.
 */
export class MessageDecoder {
  readonly sparkplug: SparkplugDecoder;
  /** How JSON payloads are checked; `zod` only to compare against (tests, the benchmark's baseline). */
  jsonValidation: JsonValidation = 'fast';

  constructor(private readonly options: MessageDecoderOptions) {
    this.sparkplug = new SparkplugDecoder(options);
  }

  decode(topic: string, payload: Buffer, now: number): DecodedMessage {
    if (payload.length > this.options.maxPayloadBytes)
      return rejected('payload-too-large', `${payload.length} bytes, more than ${this.options.maxPayloadBytes}`);
    if (topic.startsWith('spBv1.0/')) {
      const address = parseSparkplugTopic(topic);
      if (!address)
        return rejected('bad-topic', 'not a Sparkplug B topic spBv1.0/{group}/{type}/{edgeNode}[/{device}]');
      return this.sparkplug.decode(address, payload, now);
    }
    const address = parseTelemetryTopic(topic);
    if (!address) return rejected('bad-topic', 'not a telemetry topic plants/{plantId}/machines/{machineId}/telemetry');
    return decodeJsonTelemetry(address, payload, now, this.options, this.jsonValidation);
  }
}
