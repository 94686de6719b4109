import { z } from 'zod';
import { finiteNumberSchema, sensorNameSchema } from './telemetry.schema';

/** ingestion -> twin: which machines got readings in a committed batch, and their time span. */
export const readingsStoredEventSchema = z.object({
  machines: z.array(
    z.object({
      machineId: z.string(),
      plantId: z.string(),
      from: z.number(),
      to: z.number(),
      count: z.number().int().min(1),
    }),
  ),
  committedAt: z.number(),
});
export type ReadingsStoredEvent = z.infer<typeof readingsStoredEventSchema>;

/** Published on `plants/{plantId}/machines/{machineId}/twin` after every twin update. */
export const twinMessageSchema = z.object({
  plantId: z.string(),
  machineId: z.string(),
  ts: z.number(),
  modelVersion: z.string(),
  prediction: z.record(sensorNameSchema, z.object({ mean: finiteNumberSchema, std: finiteNumberSchema })),
  residuals: z.record(sensorNameSchema, finiteNumberSchema),
  anomalyScore: finiteNumberSchema,
  nfe: z.number().int().min(0),
  solverError: z.number().min(0),
  /**
   * The twin's latent state in a few numbers: its Euclidean norm, the mean over latent dimensions of
   * the filter's spread (square root of the per-dimension EWMA of squared GRU innovations, the proxy
   * of the filter's uncertainty) and how many readings the twin has folded in (kept across restarts
   * by the checkpoints; from 0 again after a reset or a model change). The twin always sends it;
   * optional for other producers.
   */
  latent: z
    .object({
      norm: z.number().min(0),
      spread: z.number().min(0),
      updates: z.number().int().min(0),
    })
    .optional(),
  /**
   * Present (true) when the reading was older than the twin's time: it was folded in at the twin's
   * time without rewinding, `ts` is the twin's time, and its residuals are against the current
   * prediction (docs/twin.md, out-of-order policy). Absent for in-order readings.
   */
  outOfOrder: z.literal(true).optional(),
  /**
   * The twin's latest forecast, when one was computed with this update (the twin forecasts each
   * machine periodically, not at every reading): remaining useful life quantiles in milliseconds
   * (null when no threshold is crossed within the horizon) and, per sensor with a failure
   * threshold, the probability that it crosses it within the horizon.
   */
  forecast: z
    .object({
      horizonMs: z.number().positive(),
      samples: z.number().int().min(1),
      rulMs: z.object({ p10: z.number(), p50: z.number(), p90: z.number() }).nullable(),
      crossingProbability: z.record(sensorNameSchema, z.number().min(0).max(1)),
    })
    .optional(),
});
export type TwinMessage = z.infer<typeof twinMessageSchema>;
export type TwinForecastSummary = NonNullable<TwinMessage['forecast']>;
export type TwinLatentSummary = NonNullable<TwinMessage['latent']>;

export const alertSeveritySchema = z.enum(['critical', 'major', 'minor', 'warning']);
export const alertStatusSchema = z.enum(['open', 'acknowledged', 'resolved', 'cleared']);

/** Published on `plants/{plantId}/alerts` whenever an alert is raised or changes state. */
export const alertMessageSchema = z.object({
  id: z.string(),
  plantId: z.string(),
  machineId: z.string(),
  ruleId: z.string().nullable(),
  kind: z.enum(['divergence', 'forecast', 'threshold']),
  severity: alertSeveritySchema,
  status: alertStatusSchema,
  message: z.string(),
  raisedAt: z.number(),
  updatedAt: z.number(),
});
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/** training -> api (dashboard progress bar): a training job's state after an epoch or a transition. */
export const trainingProgressEventSchema = z.object({
  jobId: z.string(),
  assetType: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  epoch: z.number().int().min(0),
  epochs: z.number().int().min(0),
  /** Mean training loss of the epoch and its parts (likelihood, KL, MSE, ...). */
  loss: z.number().nullable(),
  parts: z.record(z.string(), z.number()),
  /** Validation metrics of the epoch (valLoss, valMse, ...). */
  validation: z.record(z.string(), z.number()),
  /** Mean function evaluations per batch, forward and backward (null for backprop). */
  nfeForward: z.number().min(0),
  nfeBackward: z.number().min(0).nullable(),
  elapsedSeconds: z.number().min(0),
  etaSeconds: z.number().min(0).nullable(),
  /** The registered model version once succeeded; the reason once failed. */
  modelId: z.string().nullable(),
  error: z.string().nullable(),
});
export type TrainingProgressEvent = z.infer<typeof trainingProgressEventSchema>;

/** api -> twin: forget a machine's twin (the api has deleted its checkpoint). */
export const twinResetEventSchema = z.object({ machineId: z.string().min(1), at: z.number() });
export type TwinResetEvent = z.infer<typeof twinResetEventSchema>;
