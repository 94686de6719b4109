import { isUtf8 } from 'node:buffer';
import { telemetryPayloadSchema, type MachineAddress, type TelemetrySample } from '@continuum/contracts';
import type { Reading } from '@continuum/persistence';
import { outsideWindow, rejected, type DecodedMessage, type TimeWindow } from './decoded-message';

/**
 * Decodes a JSON telemetry message (`plants/{plantId}/machines/{machineId}/telemetry`, the device
 * contract in ARCHITECTURE.md) into readings, or refuses it with a reason: `invalid-utf8`,
 * `not-json`, `non-finite-value` (NaN/Infinity cannot be JSON, but `1e999` parses to Infinity),
 * `wrong-shape`, `timestamp-out-of-window`. A message is stored whole or refused whole.
 */
export function decodeJsonTelemetry(
  address: MachineAddress,
  payload: Buffer,
  now: number,
  window: TimeWindow,
): DecodedMessage {
  if (!isUtf8(payload)) return rejected('invalid-utf8', 'the payload is not valid UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return rejected('not-json', (err as Error).message);
  }
  const parsed = telemetryPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const nonFinite = issues.some((i) => i.message === 'expected a finite number') || containsNonFinite(json);
    const detail = issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return rejected(nonFinite ? 'non-finite-value' : 'wrong-shape', detail);
  }
  const samples: TelemetrySample[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  const readings: Reading[] = [];
  const sensors = new Set<string>();
  for (const sample of samples) {
    const out = outsideWindow(sample.ts, now, window);
    if (out) return rejected('timestamp-out-of-window', out);
    for (const sensor in sample.values) {
      readings.push({ machineId: address.machineId, sensor, time: sample.ts, value: sample.values[sensor] });
      sensors.add(sensor);
    }
  }
  return {
    readings,
    machines: [{ id: address.machineId, plantId: address.plantId, sensors: [...sensors] }],
    events: [],
    stale: [],
  };
}

/** Whether a parsed JSON value holds a non-finite number anywhere (`1e999` parses to Infinity). */
function containsNonFinite(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  const values = Array.isArray(value) ? value : Object.values(value);
  return values.some((v) => containsNonFinite(v, depth + 1));
}
