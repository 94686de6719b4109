import { isStiffMethod } from '@continuum/ode';
import { TrainingRequestError } from './training-errors';

/** Model kinds a job can train. `ode-rnn` (the twin's filter form) is the one the twin can run. */
export const MODEL_KINDS = ['ode-rnn', 'latent-ode'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Explicit methods a job can name (differentiable through `odeint` / `odeintAdjoint`). */
export const EXPLICIT_METHODS = ['dopri5', 'tsit5', 'bosh3', 'rk4', 'euler', 'midpoint'] as const;
/** Implicit methods (and 'auto') of `@continuum/ode`. */
export const IMPLICIT_METHODS = ['kvaerno5', 'radau5', 'rodas4', 'auto'] as const;

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

export const DEFAULT_HYPERPARAMETERS: Hyperparameters = {
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
};

/** A job request as the API or CLI receives it (untrusted). */
export interface TrainingJobRequest {
  assetType?: unknown;
  machineIds?: unknown;
  from?: unknown;
  to?: unknown;
  modelKind?: unknown;
  hyperparameters?: unknown;
  solver?: unknown;
  gradient?: unknown;
}

/** A validated job specification. */
export interface TrainingJobSpec {
  assetType: string;
  machineIds: string[] | null;
  from: Date;
  to: Date;
  modelKind: ModelKind;
  hyperparameters: Hyperparameters;
  solver: string;
  gradient: 'adjoint' | 'backprop';
}

const bad = (m: string) => new TrainingRequestError('invalid', m);

function date(v: unknown, name: string, fallback: Date): Date {
  if (v === undefined || v === null || v === '') return fallback;
  const d = v instanceof Date ? v : typeof v === 'number' ? new Date(v) : new Date(String(v));
  if (Number.isNaN(d.getTime()))
    throw bad(`${name}: expected an ISO 8601 time or epoch milliseconds, got ${String(v)}`);
  return d;
}

type Rule = { int?: boolean; min: number; max: number };
const RULES: Record<Exclude<keyof Hyperparameters, 'odeHidden'>, Rule> = {
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

/** Validates hyperparameters (unknown names and out-of-range values are refused) and fills defaults. */
export function parseHyperparameters(raw: unknown): Hyperparameters {
  if (raw === undefined || raw === null) return { ...DEFAULT_HYPERPARAMETERS };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad('hyperparameters: expected an object');
  const out: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, odeHidden: [...DEFAULT_HYPERPARAMETERS.odeHidden] };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k === 'odeHidden') {
      if (
        !Array.isArray(v) ||
        v.length === 0 ||
        v.length > 4 ||
        !v.every((w) => Number.isInteger(w) && w >= 1 && w <= 512)
      )
        throw bad('hyperparameters.odeHidden: expected 1-4 integer widths between 1 and 512');
      out.odeHidden = v as number[];
      continue;
    }
    const rule = RULES[k as keyof typeof RULES];
    if (!rule)
      throw bad(
        `hyperparameters.${k}: unknown hyperparameter (known: ${[...Object.keys(RULES), 'odeHidden'].join(', ')})`,
      );
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (
      typeof n !== 'number' ||
      !Number.isFinite(n) ||
      (rule.int && !Number.isInteger(n)) ||
      n < rule.min ||
      n > rule.max
    )
      throw bad(
        `hyperparameters.${k}: expected ${rule.int ? 'an integer' : 'a number'} between ${rule.min} and ${rule.max}, got ${JSON.stringify(v)}`,
      );
    (out as unknown as Record<string, number>)[k] = n;
  }
  return out;
}

/**
 * Validates a job request into a {@link TrainingJobSpec} (pure: whether the asset type exists and
 * has data is checked by the service against the database).
 *
 * @param now the default end of the range; the default start is 7 days before it
 * @throws TrainingRequestError 'invalid' (400) for a missing asset type, a bad or empty range, an
 *   unknown kind, solver or gradient, bad hyperparameters; 'unprocessable' (422) for an implicit
 *   method, which `@continuum/ode` cannot differentiate yet (see docs/training.md)
 */
export function parseJobRequest(req: TrainingJobRequest, now = new Date()): TrainingJobSpec {
  if (typeof req.assetType !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(req.assetType))
    throw bad('assetType: required, 1-128 of A-Z a-z 0-9 _ . : -');
  let machineIds: string[] | null = null;
  if (req.machineIds !== undefined && req.machineIds !== null) {
    if (
      !Array.isArray(req.machineIds) ||
      req.machineIds.length === 0 ||
      !req.machineIds.every((m) => typeof m === 'string')
    )
      throw bad('machineIds: expected a non-empty list of machine ids');
    machineIds = [...new Set(req.machineIds as string[])];
  }
  const to = date(req.to, 'to', now);
  const from = date(req.from, 'from', new Date(to.getTime() - 7 * 86_400_000));
  if (!(from.getTime() < to.getTime()))
    throw bad(`empty time range: from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  const modelKind = (req.modelKind ?? 'ode-rnn') as ModelKind;
  if (!MODEL_KINDS.includes(modelKind))
    throw bad(`modelKind: expected one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(req.modelKind)}`);
  const solver = String(req.solver ?? 'dopri5');
  const gradient = String(req.gradient ?? 'adjoint');
  if (gradient !== 'adjoint' && gradient !== 'backprop')
    throw bad(`gradient: expected adjoint or backprop, got ${JSON.stringify(req.gradient)}`);
  if (isStiffMethod(solver))
    throw new TrainingRequestError(
      'unprocessable',
      `solver '${solver}': @continuum/ode cannot differentiate its implicit methods yet (the adjoint's backward pass rejects an implicit adjointMethod and the stiff tensor path is not on the gradient tape); train with an explicit method, or see the stiff example (npm run train:stiff, docs/training.md)`,
    );
  if (!(EXPLICIT_METHODS as readonly string[]).includes(solver))
    throw bad(
      `solver: expected one of ${[...EXPLICIT_METHODS, ...IMPLICIT_METHODS].join(', ')}, got ${JSON.stringify(req.solver)}`,
    );
  const hyperparameters = parseHyperparameters(req.hyperparameters);
  return { assetType: req.assetType, machineIds, from, to, modelKind, hyperparameters, solver, gradient };
}
