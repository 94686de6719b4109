import { leastSquaresFit, floorSeries, slope } from '../../scripts/soak/stats';

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
});
