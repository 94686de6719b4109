/** Why a training request was refused; `status` is the HTTP status the api maps it to. */
export type TrainingErrorKind = 'invalid' | 'not-found' | 'conflict' | 'unprocessable';

const STATUS: Record<TrainingErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, unprocessable: 422 };

/**
 * A refused training or registry request (bad job spec, unknown asset type, no data, worse
 * metrics on activation, ...). Carries the HTTP status (400/404/409/422) and a one-line message;
 * the api's problem-details filter reads `status` from it.
 */
export class TrainingRequestError extends Error {
  override readonly name = 'TrainingRequestError';
  readonly status: number;

  constructor(
    readonly kind: TrainingErrorKind,
    message: string,
  ) {
    super(message);
    this.status = STATUS[kind];
  }
}
