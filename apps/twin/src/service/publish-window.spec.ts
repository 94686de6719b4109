import { PublishWindow } from './publish-window';

/** A send that settles when the test says so. */
function deferred() {
  let settle!: (err?: Error) => void;
  const promise = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  return { promise, settle };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PublishWindow', () => {
  it('starts at most `limit` sends at a time, the rest in order as earlier ones settle', async () => {
    const window = new PublishWindow(2);
    const sends = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const done = sends.map((d, i) =>
      window.run(() => {
        started.push(i);
        return d.promise;
      }),
    );
    expect(started).toEqual([0, 1]);
    expect([window.inFlight, window.backlog]).toEqual([2, 4]);
    sends[1].settle();
    await done[1];
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect([window.inFlight, window.backlog]).toEqual([2, 3]);
    sends[0].settle(new Error('refused'));
    await expect(done[0]).rejects.toThrow('refused');
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    sends[2].settle();
    sends[3].settle();
    await Promise.all(done.slice(2));
    await tick();
    expect([window.inFlight, window.backlog]).toEqual([0, 0]);
  });

  it('a send that throws counts as settled', async () => {
    const window = new PublishWindow(1);
    await expect(
      window.run(() => {
        throw new Error('bad payload');
      }),
    ).rejects.toThrow('bad payload');
    await tick();
    expect(window.backlog).toBe(0);
    await expect(window.run(async () => undefined)).resolves.toBeUndefined();
  });

  it('whenBacklogAtMost resolves once the backlog has fallen that low', async () => {
    const window = new PublishWindow(1);
    const sends = [deferred(), deferred(), deferred()];
    sends.forEach((d) => void window.run(() => d.promise));
    let atOne = false;
    let atZero = false;
    void window.whenBacklogAtMost(1).then(() => (atOne = true));
    void window.whenBacklogAtMost(0).then(() => (atZero = true));
    await expect(window.whenBacklogAtMost(3)).resolves.toBeUndefined();
    sends[0].settle();
    await tick();
    expect([atOne, atZero]).toEqual([false, false]);
    sends[1].settle();
    await tick();
    expect([atOne, atZero]).toEqual([true, false]);
    sends[2].settle();
    await tick();
    expect(atZero).toBe(true);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new PublishWindow(0)).toThrow('positive integer, got 0');
  });
});
