import { z } from 'zod';

/** A sensor name: letters, digits and `_ . - :`, 1 to 64 characters. */
export const SENSOR_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** An ISO-8601 timestamp with a time zone, as `ts` may be given. */
export const ISO_TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
/** The most epoch milliseconds a `ts` may be (the end of the ECMAScript date range). */
export const MAX_EPOCH_MS = 8.64e15;
/** The most sensors one sample may name. */
export const MAX_SENSORS_PER_SAMPLE = 256;
/** The most samples one telemetry message may hold. */
export const MAX_SAMPLES_PER_MESSAGE = 10_000;

/** A sensor name: letters, digits and `_ . - :`, at most 64 characters. */
export const sensorNameSchema = z.string().regex(SENSOR_NAME_PATTERN, 'sensor names are 1-64 of A-Z a-z 0-9 _ . - :');

/** A finite number (JSON cannot carry NaN or Infinity, but strings and nulls must be refused too). */
export const finiteNumberSchema = z
  .number({ message: 'expected a number' })
  .refine(Number.isFinite, 'expected a finite number');

/** `ts`: an ISO-8601 string with a time zone, or epoch milliseconds. Parsed to epoch milliseconds. */
export const timestampSchema = z.union([
  z
    .string()
    .regex(ISO_TIMESTAMP_PATTERN, 'expected an ISO-8601 timestamp with a time zone')
    .transform((s, ctx) => {
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: 'expected a valid ISO-8601 timestamp' });
        return z.NEVER;
      }
      return ms;
    }),
  z.number().int('expected integer epoch milliseconds').min(0).max(MAX_EPOCH_MS),
]);

/** One telemetry sample: `{"ts": ..., "values": {"<sensor>": <finite number>}, "seq"?: <int>}`. */
export const telemetrySampleSchema = z.strictObject({
  ts: timestampSchema,
  values: z
    .record(sensorNameSchema, finiteNumberSchema)
    .refine((v) => Object.keys(v).length > 0, 'values must name at least one sensor')
    .refine((v) => Object.keys(v).length <= MAX_SENSORS_PER_SAMPLE, 'at most 256 sensors per sample'),
  seq: z.number().int().min(0).optional(),
});

/** A telemetry message: one sample or an array of 1 to 10,000 samples. */
export const telemetryPayloadSchema = z.union([
  telemetrySampleSchema,
  z
    .array(telemetrySampleSchema)
    .min(1, 'an empty array carries no reading')
    .max(MAX_SAMPLES_PER_MESSAGE, 'at most 10,000 samples per message'),
]);

export type TelemetrySample = z.output<typeof telemetrySampleSchema>;
export type TelemetryPayload = z.output<typeof telemetryPayloadSchema>;
