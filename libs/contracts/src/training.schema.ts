import { z } from 'zod';

/**
 * Training jobs and the model registry as every app sees them: the job request schema (the api's
 * `POST /api/v1/training-jobs` and `npm run train` validate with it; apps/training runs what it
 * accepts), the checks a job must pass against the database before it is queued, and the rule that
 * decides whether a model version may be activated. Pure: no database, no TensorFlow.js.
 */

/** Model kinds a job can train. `ode-rnn` (the twin's filter form) is the one the twin can run. */
export const MODEL_KINDS = ['ode-rnn', 'latent-ode'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/**
 * Explicit methods a job can name (differentiable through `odeint` / `odeintAdjoint`): the names of
 * `@continuum/ode`'s `TABLEAUX` (a test in apps/training checks they match; contracts does not
 * depend on ode).
 */
export const EXPLICIT_METHODS = ['dopri5', 'tsit5', 'bosh3', 'rk4', 'euler', 'midpoint'] as const;
/** Implicit methods (and 'auto') of `@continuum/ode`: its `STIFF_METHODS` (checked by the same test). */
export const IMPLICIT_METHODS = ['kvaerno3', 'kvaerno5', 'rodas4', 'radau5', 'auto'] as const;
export const GRADIENT_METHODS = ['adjoint', 'backprop'] as const;
export type GradientMethod = (typeof GRADIENT_METHODS)[number];

/** Hyperparameters of a job, with their defaults. */
export interface Hyperparameters {
  epochs: number;
  /** Adam learning rate. */
  lr: number;
  batchSize: number;
  /** Batches per epoch. */
  batchesPerEpoch: number;
  /** Readings per training window. */
  window: number;
  /** Hidden (ODE-RNN, CDE) or latent (Latent ODE) width. */
  hidden: number;
  /** Hidden widths of the ODE vector field. */
  odeHidden: number[];
  /** Augmented dimensions (ANODE, Dupont et al. 2019): extra zero-initialised state dimensions. */
  augment: number;
  /** Stop after this many epochs without validation improvement. */
  patience: number;
  /** Fraction of machines held out for validation. */
  validationFraction: number;
  /** Model time unit (ms per unit): 1 h by default, as the twin's default models. */
  timeScaleMs: number;
  rtol: number;
  atol: number;
  clipNorm: number;
  seed: number;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  epochs: 20,
  lr: 1e-2,
  batchSize: 16,
  batchesPerEpoch: 8,
  window: 32,
  hidden: 16,
  odeHidden: [32],
  augment: 0,
  patience: 10,
  validationFraction: 0.25,
  timeScaleMs: 3_600_000,
  rtol: 1e-3,
  atol: 1e-4,
  clipNorm: 5,
  seed: 0,
});

/** Range of each numeric hyperparameter (odeHidden: 1-4 integer widths of 1-512). */
export const HYPERPARAMETER_RANGES: Readonly<
  Record<Exclude<keyof Hyperparameters, 'odeHidden'>, { int?: boolean; min: number; max: number }>
> = {
  epochs: { int: true, min: 1, max: 10_000 },
  lr: { min: 1e-7, max: 1 },
  batchSize: { int: true, min: 1, max: 4096 },
  batchesPerEpoch: { int: true, min: 1, max: 10_000 },
  window: { int: true, min: 2, max: 10_000 },
  hidden: { int: true, min: 1, max: 512 },
  augment: { int: true, min: 0, max: 64 },
  patience: { int: true, min: 0, max: 10_000 },
  validationFraction: { min: 0, max: 0.9 },
  timeScaleMs: { min: 1, max: 365 * 86_400_000 },
  rtol: { min: 1e-10, max: 1 },
  atol: { min: 1e-12, max: 1 },
  clipNorm: { min: 1e-6, max: 1e6 },
  seed: { int: true, min: 0, max: 2 ** 31 - 1 },
};

/** Why a training or registry request was refused; `status` is its HTTP status. */
export type TrainingErrorKind = 'invalid' | 'not-found' | 'conflict' | 'unprocessable';

const STATUS: Record<TrainingErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, unprocessable: 422 };

/**
 * A refused training or registry request (bad job spec, unknown asset type, no data, worse
 * metrics on activation, ...). Carries the HTTP status (400/404/409/422), a one-line message and,
 * for validation failures, one message per problem.
 */
export class TrainingRequestError extends Error {
  override readonly name = 'TrainingRequestError';
  readonly status: number;

  constructor(
    readonly kind: TrainingErrorKind,
    message: string,
    readonly errors: string[] = [message],
  ) {
    super(message);
    this.status = STATUS[kind];
  }
}

const show = (v: unknown): string => (v instanceof Date ? v.toString() : (JSON.stringify(v) ?? String(v)));

/** A numeric string ('0.01' from a command line) as its number; anything else unchanged. */
const numeric = (v: unknown): unknown => {
  if (typeof v !== 'string' || v.trim() === '') return v;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
};

function bounded({ int, min, max }: { int?: boolean; min: number; max: number }) {
  const error = (iss: { input?: unknown }) =>
    `expected ${int ? 'an integer' : 'a number'} between ${min} and ${max}, got ${show(iss.input)}`;
  const n = z.number({ error }).min(min, { error }).max(max, { error });
  return z.preprocess(numeric, int ? n.int({ error }) : n).optional();
}

const ODE_HIDDEN_ERROR = 'expected 1-4 integer widths between 1 and 512';
const KNOWN_HYPERPARAMETERS = [...Object.keys(HYPERPARAMETER_RANGES), 'odeHidden'].join(', ');

/** Hyperparameters as a request gives them: every one optional, unknown names refused. */
export const hyperparametersSchema = z.strictObject(
  {
    ...(Object.fromEntries(Object.entries(HYPERPARAMETER_RANGES).map(([k, rule]) => [k, bounded(rule)])) as Record<
      keyof typeof HYPERPARAMETER_RANGES,
      ReturnType<typeof bounded>
    >),
    odeHidden: z
      .array(z.preprocess(numeric, z.number().int().min(1).max(512)), { error: ODE_HIDDEN_ERROR })
      .min(1, { error: ODE_HIDDEN_ERROR })
      .max(4, { error: ODE_HIDDEN_ERROR })
      .optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown hyperparameter ${iss.keys.join(', ')} (known: ${KNOWN_HYPERPARAMETERS})`
        : iss.code === 'invalid_type'
          ? 'expected an object'
          : undefined,
  },
);

const instant = z.unknown().transform((v, ctx): Date | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const d =
    v instanceof Date ? v : typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 time or epoch milliseconds, got ${show(v)}` });
    return z.NEVER;
  }
  return d;
});

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(
    (v) => (v === null ? undefined : v),
    z.enum(values, { error: (iss) => `expected one of ${values.join(', ')}, got ${show(iss.input)}` }).optional(),
  );

const MACHINE_IDS_ERROR = 'expected a non-empty list of machine ids';

/**
 * A job request (JSON body of `POST /api/v1/training-jobs`, or the CLI's options): unknown fields
 * are refused; absent ones take their defaults in {@link parseJobRequest}.
 */
export const trainingJobRequestSchema = z.strictObject(
  {
    assetType: z
      .string({ error: 'required, 1-128 of A-Z a-z 0-9 _ . : -' })
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, { error: 'required, 1-128 of A-Z a-z 0-9 _ . : -' }),
    machineIds: z
      .array(z.string().min(1).max(128), { error: MACHINE_IDS_ERROR })
      .min(1, { error: MACHINE_IDS_ERROR })
      .max(10_000, { error: 'at most 10000 machine ids' })
      .nullish(),
    from: instant.optional(),
    to: instant.optional(),
    modelKind: oneOf(MODEL_KINDS),
    solver: oneOf([...EXPLICIT_METHODS, ...IMPLICIT_METHODS]),
    gradient: oneOf(GRADIENT_METHODS),
    hyperparameters: hyperparametersSchema.nullish(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field ${iss.keys.join(', ')}`
        : iss.code === 'invalid_type'
          ? 'expected a JSON object'
          : undefined,
  },
);

/** A job request as the API or CLI receives it (untrusted). */
export type TrainingJobRequest = Record<string, unknown>;

/** A validated job specification. */
export interface TrainingJobSpec {
  assetType: string;
  machineIds: string[] | null;
  from: Date;
  to: Date;
  modelKind: ModelKind;
  hyperparameters: Hyperparameters;
  solver: string;
  gradient: GradientMethod;
}

/** A 400 listing every issue as `path: message` (`prefix` goes before each path). */
function invalid(error: z.ZodError, prefix?: string): TrainingRequestError {
  const messages = [
    ...new Set(
      error.issues.map((i) => {
        const path = [...(prefix ? [prefix] : []), ...i.path.map(String)];
        return path.length ? `${path.join('.')}: ${i.message}` : i.message;
      }),
    ),
  ];
  return new TrainingRequestError('invalid', messages.join('; '), messages);
}

/** Validates hyperparameters (unknown names and out-of-range values are refused) and fills defaults. */
export function parseHyperparameters(raw: unknown): Hyperparameters {
  const r = hyperparametersSchema.nullish().safeParse(raw);
  if (!r.success) throw invalid(r.error, 'hyperparameters');
  const given = Object.fromEntries(Object.entries(r.data ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_HYPERPARAMETERS, odeHidden: [...DEFAULT_HYPERPARAMETERS.odeHidden], ...given };
}

/**
 * Validates a job request into a {@link TrainingJobSpec} (pure: whether the asset type exists and
 * has data is {@link admitJob}'s question).
 *
 * @param now the default end of the range; the default start is 7 days before it
 * @throws TrainingRequestError 'invalid' (400, every problem listed) for a missing asset type, a bad
 *   or empty range, an unknown field, kind, solver or gradient, bad hyperparameters;
 *   'unprocessable' (422) for an implicit method with backprop: implicit methods train with the
 *   adjoint gradient only (see docs/training.md)
 */
export function parseJobRequest(req: unknown, now = new Date()): TrainingJobSpec {
  const r = trainingJobRequestSchema.safeParse(req);
  if (!r.success) throw invalid(r.error);
  const q = r.data;
  const to = q.to ?? now;
  const from = q.from ?? new Date(to.getTime() - 7 * 86_400_000);
  if (Number.isNaN(from.getTime()))
    throw new TrainingRequestError(
      'invalid',
      `from: the default, 7 days before to (${to.toISOString()}), is out of range`,
    );
  if (!(from.getTime() < to.getTime()))
    throw new TrainingRequestError(
      'invalid',
      `empty time range: from (${from.toISOString()}) must be before to (${to.toISOString()})`,
    );
  const solver = q.solver ?? 'dopri5';
  const gradient = q.gradient ?? 'adjoint';
  if ((IMPLICIT_METHODS as readonly string[]).includes(solver) && gradient === 'backprop')
    throw new TrainingRequestError(
      'unprocessable',
      `solver '${solver}' needs gradient 'adjoint': backprop cannot go through @continuum/ode's implicit solves (their Newton iterations are not on the gradient tape); the adjoint integrates the backward pass with the same implicit method (docs/training.md)`,
    );
  return {
    assetType: q.assetType,
    machineIds: q.machineIds ? [...new Set(q.machineIds)] : null,
    from,
    to,
    modelKind: q.modelKind ?? 'ode-rnn',
    hyperparameters: parseHyperparameters(q.hyperparameters),
    solver,
    gradient,
  };
}

/** What {@link admitJob} asks of the database (apps/training's TrainingDataRepository has it). */
export interface TrainingDataCatalog {
  /** Whether any machine has this asset type. */
  assetTypeExists(assetType: string): Promise<boolean>;
  /** The machines of the asset type (or those of `ids` that have it). */
  machines(assetType: string, ids: string[] | null): Promise<{ id: string }[]>;
  /** Readings of the machines in [from, to), counted up to `cap`. */
  countReadings(selection: { machineIds: string[]; from: Date; to: Date }, cap: number): Promise<number>;
}

/**
 * The checks a valid job must pass before it is queued: the asset type has machines (404), the
 * listed machines are of it (404), and the range holds at least two windows of readings (422).
 */
export async function admitJob(spec: TrainingJobSpec, data: TrainingDataCatalog): Promise<void> {
  if (!(await data.assetTypeExists(spec.assetType)))
    throw new TrainingRequestError('not-found', `unknown asset type '${spec.assetType}': no machine has it`);
  const machines = await data.machines(spec.assetType, spec.machineIds);
  if (spec.machineIds) {
    const known = new Set(machines.map((m) => m.id));
    const missing = spec.machineIds.filter((id) => !known.has(id));
    if (missing.length)
      throw new TrainingRequestError(
        'not-found',
        `machines not found for asset type ${spec.assetType}: ${missing.join(', ')}`,
      );
  }
  const minReadings = 2 * spec.hyperparameters.window;
  const n = await data.countReadings(
    { machineIds: machines.map((m) => m.id), from: spec.from, to: spec.to },
    minReadings,
  );
  if (n < minReadings)
    throw new TrainingRequestError(
      'unprocessable',
      `no data: ${n} readings of ${spec.assetType} between ${spec.from.toISOString()} and ${spec.to.toISOString()} (at least ${minReadings} needed for windows of ${spec.hyperparameters.window})`,
    );
}

/** The `training_jobs` row fields of an admitted spec (status `queued` is the queue's). */
export function trainingJobRecord(spec: TrainingJobSpec) {
  return {
    assetType: spec.assetType,
    machineIds: spec.machineIds,
    rangeFrom: spec.from,
    rangeTo: spec.to,
    modelKind: spec.modelKind,
    hyperparameters: { ...spec.hyperparameters } as Record<string, unknown>,
    solver: spec.solver,
    gradient: spec.gradient,
  };
}

/** The metric model versions are compared on: validation NLL per observed value (lower is better). */
export const COMPARISON_METRIC = 'valLoss';

/** A version's {@link COMPARISON_METRIC}, or null when it has none. */
export function comparisonMetric(m: { metrics?: Record<string, unknown> | null }): number | null {
  const v = m.metrics?.[COMPARISON_METRIC];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The fields of a model version the activation rule reads. */
export interface VersionMetrics {
  id: string;
  assetType: string;
  version: number;
  metrics?: Record<string, unknown> | null;
}

/**
 * Why `model` may not replace `active` as its asset type's active version — its validation metric
 * is worse (or unknown while the active one's is known) — or null when it may. `force` overrides.
 */
export function activationConflict(model: VersionMetrics, active: VersionMetrics | null, force = false): string | null {
  if (!active || active.id === model.id || force) return null;
  const mNew = comparisonMetric(model);
  const mOld = comparisonMetric(active);
  if (mOld !== null && (mNew === null || mNew > mOld))
    return `model ${model.assetType} v${model.version} has ${COMPARISON_METRIC} ${mNew ?? 'unknown'}, worse than the active v${active.version} (${mOld}); pass force to activate it anyway`;
  return null;
}
