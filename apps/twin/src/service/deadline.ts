/** A stage of the twin's loop that did not settle in time. */
export class DeadlineExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * `promise`, or a rejection with {@link DeadlineExceeded} when it has not settled within `ms`. The
 * promise itself is not cancelled (whatever it waits on may still finish later); its late rejection is
 * swallowed so that it is not reported as unhandled.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
