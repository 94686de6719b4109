import { Coalescer } from './coalescer';

describe('Coalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hands over the latest value per key once per period', () => {
    const out: [string, number][] = [];
    const c = new Coalescer<string, number>(500, (k, v) => out.push([k, v]));
    for (let i = 0; i < 100; i++) c.offer('m1', i);
    c.offer('m2', 7);
    expect(out).toEqual([]);
    jest.advanceTimersByTime(500);
    expect(out).toEqual([
      ['m1', 99],
      ['m2', 7],
    ]);
    c.offer('m1', 100);
    jest.advanceTimersByTime(499);
    expect(out).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(out[2]).toEqual(['m1', 100]);
  });

  it('merges with a custom function and stops cleanly', () => {
    const out: number[][] = [];
    const c = new Coalescer<string, number[]>(
      100,
      (_, v) => out.push(v),
      (a, b) => [...a, ...b],
    );
    c.offer('k', [1]);
    c.offer('k', [2, 3]);
    c.drain();
    expect(out).toEqual([[1, 2, 3]]);
    c.offer('k', [4]);
    c.stop();
    jest.advanceTimersByTime(1000);
    expect(out).toHaveLength(1);
  });
});
