import { distinctByTime, leastSquaresFit, floorSeries, rssHighWater, slope } from '../../scripts/soak/stats';

/** The soak's memory-slope arithmetic (scripts/soak/stats.ts). */
describe('soak statistics', () => {
  it('fits the slope of a line exactly, with zero standard error', () => {
    const pts = Array.from({ length: 20 }, (_, i) => [i * 0.5, 100 + 3 * i * 0.5] as const);
    expect(slope(pts)).toBeCloseTo(3, 12);
    expect(leastSquaresFit(pts).se).toBeCloseTo(0, 12);
  });

  it('gives a standard error that grows with the noise and shrinks with the points', () => {
    // Deterministic alternating noise of amplitude a around a flat line.
    const noisy = (n: number, a: number) => Array.from({ length: n }, (_, i) => [i, 50 + (i % 2 ? a : -a)] as const);
    const small = leastSquaresFit(noisy(60, 1));
    const large = leastSquaresFit(noisy(60, 4));
    expect(Math.abs(small.slope)).toBeLessThan(0.01);
    expect(large.se).toBeCloseTo(4 * small.se, 6);
    expect(leastSquaresFit(noisy(240, 1)).se).toBeLessThan(small.se / 4);
  });

  it('is NaN where a slope is undefined', () => {
    expect(slope([[1, 1]])).toBeNaN();
    expect(
      slope([
        [1, 1],
        [1, 2],
      ]),
    ).toBeNaN();
    expect(
      leastSquaresFit([
        [0, 0],
        [1, 1],
      ]).se,
    ).toBeNaN();
  });

  it('takes the floor of a sawtooth: a growing floor under a flat peak shows as growth', () => {
    // Heap between collections: climbs 0..9 MiB above a floor within each 0.5-minute bucket.
    const pts: [number, number][] = [];
    for (let i = 0; i < 200; i++) {
      const x = i * 0.05; // minutes
      const floor = 40 + 2 * x; // retained memory grows 2 MiB/min
      pts.push([x, floor + (i % 10)]);
    }
    const floors = floorSeries(pts, 0.5);
    expect(floors).toHaveLength(20);
    expect(floors[0][0]).toBeCloseTo(0.25, 12);
    expect(slope(floors)).toBeCloseTo(2, 1);
    // A flat floor gives a flat slope even though the sawtooth is 9 MiB tall.
    const flat = floorSeries(
      pts.map(([x], i) => [x, 40 + (i % 10)] as [number, number]),
      0.5,
    );
    expect(slope(flat)).toBeCloseTo(0, 12);
  });

  describe('RSS high-water check', () => {
    // RSS in MiB sampled every 5 s over 10 minutes; the split at minute 5.
    const series = (rss: (min: number) => number) =>
      Array.from({ length: 121 }, (_, i) => [i / 12, rss(i / 12)] as const);

    it('passes a high-water mark reached early and never exceeded, however the RSS moves after it', () => {
      // Peak 300 MiB in minute 1, then RSS falls and climbs back to 290: a falling-then-rising slope.
      const r = rssHighWater(
        series((m) => (m < 1 ? 150 + 150 * m : 200 + 18 * Math.max(0, m - 5))),
        5,
      );
      expect(r.firstPeak).toBeCloseTo(287.5, 6); // the last sample before minute 1
      expect(r.secondPeak).toBeCloseTo(290, 6);
      expect(r.limit).toBeCloseTo(287.5 * 1.1, 6);
      expect(r.ok).toBe(true);
    });

    it('fails a high-water mark that keeps rising', () => {
      // 8 MiB/min of steady growth from 200 MiB: the second half ends 40 MiB above the first's peak.
      const r = rssHighWater(
        series((m) => 200 + 8 * m),
        5,
      );
      expect(r.firstPeak).toBeCloseTo(200 + 8 * (59 / 12), 6);
      expect(r.secondPeak).toBe(280);
      expect(r.limit).toBeCloseTo(1.1 * r.firstPeak, 6); // 10 % of 239 MiB: more than 16 MiB
      expect(r.ok).toBe(false);
      // The same growth at 2 MiB/min stays within the margin in 10 minutes: 10 MiB above a 210 peak.
      expect(
        rssHighWater(
          series((m) => 200 + 2 * m),
          5,
        ).ok,
      ).toBe(true);
      // 10 % of a 400 MiB peak is 40 MiB: 30 MiB above it passes, 45 does not.
      expect(
        rssHighWater(
          [
            [1, 400],
            [6, 430],
          ],
          5,
        ).ok,
      ).toBe(true);
      expect(
        rssHighWater(
          [
            [1, 400],
            [6, 445],
          ],
          5,
        ).ok,
      ).toBe(false);
    });

    it('allows at least 16 MiB above a small peak', () => {
      // 10 % of 100 MiB is 10 MiB; the floor of 16 MiB applies.
      expect(
        rssHighWater(
          [
            [1, 100],
            [6, 115],
          ],
          5,
        ),
      ).toEqual({ firstPeak: 100, secondPeak: 115, limit: 116, ok: true });
      expect(
        rssHighWater(
          [
            [1, 100],
            [6, 117],
          ],
          5,
        ).ok,
      ).toBe(false);
    });

    it('fails where a half has no sample', () => {
      const r = rssHighWater([[1, 100]], 5);
      expect(r.ok).toBe(false);
      expect(r.limit).toBeNaN();
      expect(rssHighWater([], 5).ok).toBe(false);
    });
  });

  it('keeps one point per retained-heap measurement, sorted by time', () => {
    // Samples every 5 s repeat the latest 30 s measurement.
    const repeated = [
      [30, 50],
      [30, 50],
      [0, 48],
      [60, 51],
      [30, 50],
      [60, 51],
    ] as const;
    expect(distinctByTime(repeated)).toEqual([
      [0, 48],
      [30, 50],
      [60, 51],
    ]);
    // Repeats would weigh the fit but not move a line's slope; distinct points give the right count.
    expect(slope(distinctByTime(repeated))).toBeCloseTo(3 / 60, 12);
  });
});
