import { lttb } from './lttb';

describe('lttb', () => {
  it('returns short series whole', () => {
    expect(lttb([1, 2, 3], [5, 6, 7], 10)).toEqual([0, 1, 2]);
  });

  it('keeps the requested number of points, the ends, and increasing indices', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x / 100));
    const kept = lttb(xs, ys, 500);
    expect(kept).toHaveLength(500);
    expect(kept[0]).toBe(0);
    expect(kept[kept.length - 1]).toBe(9_999);
    for (let i = 1; i < kept.length; i++) expect(kept[i]).toBeGreaterThan(kept[i - 1]);
  });

  it('keeps a single spike that averaging would flatten', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((x) => (x === 437 ? 100 : 0));
    expect(lttb(xs, ys, 20)).toContain(437);
  });
});
