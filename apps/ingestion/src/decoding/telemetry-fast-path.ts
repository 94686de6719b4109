import {
  ISO_TIMESTAMP_PATTERN as ISO_TIMESTAMP,
  MAX_EPOCH_MS,
  MAX_SAMPLES_PER_MESSAGE as MAX_SAMPLES,
  MAX_SENSORS_PER_SAMPLE as MAX_SENSORS,
  SENSOR_NAME_PATTERN as SENSOR_NAME,
  type TelemetrySample,
} from '@continuum/contracts';

/**
 * The telemetry payload check of `telemetryPayloadSchema` (@continuum/contracts), written out by
 * hand for the hot path: for a parsed JSON value, returns exactly what
 * `telemetryPayloadSchema.safeParse(value).data` would (as an array of samples), or `null` when
 * the value is not a valid telemetry payload — or when it is unusual enough that this function
 * leaves the decision to zod (a `__proto__` key, whose handling by zod's record copy this function
 * does not repeat). A `null` never decides anything by itself: the caller then runs the zod
 * schema, which gives the verdict and its error messages. So refusals and their messages are
 * zod's, and what this function accepts it accepts only where zod would, with the same output
 * (checked against zod on generated payloads in telemetry-fast-path.spec.ts).
 *
 * Why: zod costs about as much as `JSON.parse` per message, most of it in the generic record and
 * union machinery, and every accepted message paid it.
 */
export function fastTelemetrySamples(json: unknown): TelemetrySample[] | null {
  if (Array.isArray(json)) {
    const n = json.length;
    if (n < 1 || n > MAX_SAMPLES) return null;
    const out = new Array<TelemetrySample>(n);
    for (let i = 0; i < n; i++) {
      const sample = fastSample(json[i]);
      if (sample === null) return null;
      out[i] = sample;
    }
    return out;
  }
  const sample = fastSample(json);
  return sample === null ? null : [sample];
}

function fastSample(value: unknown): TelemetrySample | null {
  if (!isPlainObject(value)) return null;
  let ts: number | null = null;
  let values: Record<string, number> | null = null;
  let seq: number | undefined;
  let hasSeq = false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (key === 'ts') ts = timestamp(v);
    else if (key === 'values') values = sensorValues(v);
    else if (key === 'seq') {
      // z.number().int().min(0): a safe integer, not negative.
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return null;
      seq = v;
      hasSeq = true;
    } else return null; // strictObject: unknown keys (and `__proto__`) are zod's to report
  }
  if (ts === null || values === null) return null;
  return hasSeq ? { ts, values, seq } : { ts, values };
}

/** `ts`: an ISO-8601 string with a zone (parsed to ms), or integer epoch ms in [0, 8.64e15]. */
function timestamp(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 && v <= MAX_EPOCH_MS ? v : null;
  if (typeof v !== 'string' || !ISO_TIMESTAMP.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * `values`: a plain object of 1-256 sensor names -> finite numbers. Returned as it is (zod
 * returns a copy with the same keys in the same order; nothing here writes to it).
 */
function sensorValues(v: unknown): Record<string, number> | null {
  if (!isPlainObject(v)) return null;
  let n = 0;
  for (const key in v) {
    const x = (v as Record<string, unknown>)[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || key === '__proto__' || !SENSOR_NAME.test(key)) return null;
    if (++n > MAX_SENSORS) return null;
  }
  return n === 0 ? null : (v as Record<string, number>);
}

/** What `JSON.parse` makes of `{...}`: an object whose prototype is Object.prototype. */
function isPlainObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}
