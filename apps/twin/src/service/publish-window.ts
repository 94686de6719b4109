/** One send waiting for room in the window, with the settlement of the promise `run` returned for it. */
interface Queued {
  send: () => Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * At most `limit` sends in flight (started, not settled) at a time; the others wait here, in order,
 * and start as earlier ones settle. A QoS 1 publish settles on the broker's acknowledgement, so
 * under a slow broker the client library holds at most `limit` of them (with their payloads, callbacks
 * and, on a backed-up socket, one 'drain' listener each); what waits here is counted in
 * {@link backlog}, which the twin's batch loop reads before fetching more.
 */
export class PublishWindow {
  private inFlightCount = 0;
  private queue: Queued[] = [];
  /** Index of the queue's first entry (entries before it have started; compacted now and then). */
  private head = 0;
  private waiters: { atMost: number; resolve: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`publish window must be a positive integer, got ${limit}`);
  }

  /** Sends started and not settled yet (at most `limit`). */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Sends not settled yet: in flight, or waiting for room. */
  get backlog(): number {
    return this.inFlightCount + this.queue.length - this.head;
  }

  /** Runs `send` once fewer than `limit` sends are in flight; settles as it does. */
  run(send: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ send, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once the backlog is at most `atMost` (now, if it already is). */
  whenBacklogAtMost(atMost: number): Promise<void> {
    if (this.backlog <= atMost) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ atMost, resolve }));
  }

  private pump(): void {
    while (this.inFlightCount < this.limit && this.head < this.queue.length) {
      const next = this.queue[this.head++];
      this.inFlightCount++;
      let sent: Promise<void>;
      try {
        sent = next.send();
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(next.resolve, next.reject).finally(() => {
        this.inFlightCount--;
        this.pump();
        this.wake();
      });
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const backlog = this.backlog;
    const ready = this.waiters.filter((w) => backlog <= w.atMost);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => backlog > w.atMost);
    for (const w of ready) w.resolve();
  }
}
