/** Helpers for tests that drive real processes, brokers and databases. */

/** Polls `probe` every 50 ms until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A short random id for topics, client ids and names that must not collide between test runs. */
export const uniqueId = () => Math.random().toString(36).slice(2, 10);
