import { isUtf8 } from 'node:buffer';
import { telemetryPayloadSchema, type MachineAddress, type TelemetrySample } from '@continuum/contracts';
import type { Reading } from '@continuum/persistence';
import { outsideWindow, rejected, type DecodedMessage, type TimeWindow } from './decoded-message';
import { fastTelemetrySamples } from './telemetry-fast-path';

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
  validation: JsonValidation = 'fast',
): DecodedMessage {
  if (!isUtf8(payload)) return rejected('invalid-utf8', 'the payload is not valid UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return rejected('not-json', (err as Error).message);
  }
  const samples = (validation === 'fast' ? fastTelemetrySamples(json) : null) ?? validateWithZod(json);
  if (!Array.isArray(samples)) return samples;
  const machineId = address.machineId;
  const readings: Reading[] = [];
  const sensors: string[] = [];
  for (let i = 0; i < samples.length; i++) {
    const { ts, values } = samples[i];
    const out = outsideWindow(ts, now, window);
    if (out) return rejected('timestamp-out-of-window', out);
    for (const sensor in values) {
      readings.push({ machineId, sensor, time: ts, value: values[sensor] });
      // Messages usually carry one sample; a linear check beats a Set for the few sensors of one.
      if (i === 0 || !sensors.includes(sensor)) sensors.push(sensor);
    }
  }
  return {
    readings,
    machines: [{ id: machineId, plantId: address.plantId, sensors }],
    events: [],
    stale: [],
  };
}

/**
 * How a JSON payload is checked: `fast` tries the hand-written check first and asks zod only
 * when that one declines; `zod` always uses the contract's zod schema (the reference the fast
 * check is tested against, and the "before" of `npm run bench:ingest`).
 */
export type JsonValidation = 'fast' | 'zod';

/** The contract's schema: the samples, or the refusal with zod's messages. */
function validateWithZod(json: unknown): TelemetrySample[] | DecodedMessage {
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
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/** Whether a parsed JSON value holds a non-finite number anywhere (`1e999` parses to Infinity). */
function containsNonFinite(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  const values = Array.isArray(value) ? value : Object.values(value);
  return values.some((v) => containsNonFinite(v, depth + 1));
}
