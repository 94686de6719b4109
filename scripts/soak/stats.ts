/** Small statistics for the soak report. */

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than 2 points. */
export function slope(points: readonly (readonly [number, number])[]): number {
  return leastSquaresFit(points).slope;
}

/** Least-squares slope and its standard error (NaN with fewer than 3 points). */
export function leastSquaresFit(points: readonly (readonly [number, number])[]): { slope: number; se: number } {
  const n = points.length;
  if (n < 2) return { slope: NaN, se: NaN };
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  if (sxx === 0) return { slope: NaN, se: NaN };
  const b = sxy / sxx;
  let rss = 0;
  for (const [x, y] of points) rss += (y - my - b * (x - mx)) ** 2;
  return { slope: b, se: n > 2 ? Math.sqrt(rss / (n - 2) / sxx) : NaN };
}

/**
 * The lower envelope of a sawtooth (the heap between garbage collections): the minimum of each
 * `bucket`-wide slice of x, at the slice's middle. Its slope is what the process retains.
 */
export function floorSeries(points: readonly (readonly [number, number])[], bucket: number): [number, number][] {
  const mins = new Map<number, number>();
  for (const [x, y] of points) {
    const b = Math.floor(x / bucket);
    mins.set(b, Math.min(mins.get(b) ?? Infinity, y));
  }
  return [...mins].sort((a, b) => a[0] - b[0]).map(([b, y]) => [(b + 0.5) * bucket, y]);
}

export const MiB = 1024 * 1024;
export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '—';
