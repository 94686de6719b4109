/**
 * Why a solve failed. Machine-readable, stable strings: callers switch on them.
 *
 * - `step_size_underflow`: the controller asked for a step smaller than the floating-point
 *   resolution of `t` (the problem is stiff, has a singularity, or the tolerance is too tight).
 * - `too_many_steps`: `maxSteps` step attempts were made before reaching the last output time.
 * - `non_finite_state`: the state or the vector field became NaN or infinite.
 * - `bad_arguments`: the call itself is invalid (non-monotonic `ts`, shape mismatch, ...).
 */
export type OdeErrorReason = 'step_size_underflow' | 'too_many_steps' | 'non_finite_state' | 'bad_arguments';

/** Where a failure happened, when it happened during the integration. */
export interface OdeErrorContext {
  /** Time of the last accepted state when the failure was detected. */
  t?: number;
  /** Step size (signed) being attempted. */
  h?: number;
  /** Number of step attempts made so far. */
  step?: number;
}

/**
 * The single error type thrown by `@continuum/ode`. Like diffrax's `RESULTS`, each failure carries a
 * reason a program can act on and a message a person can act on ("Try increasing `maxSteps`").
 */
export class OdeError extends Error {
  override readonly name = 'OdeError';

  constructor(
    readonly reason: OdeErrorReason,
    message: string,
    readonly context: OdeErrorContext = {},
  ) {
    super(message);
  }
}

/** Throws `bad_arguments` unless `condition` holds. */
export function checkArgument(condition: boolean, message: string): asserts condition {
  if (!condition) throw new OdeError('bad_arguments', message);
}
