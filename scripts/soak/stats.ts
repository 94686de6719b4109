/** Small statistics for the soak report. */

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than 2 points. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
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
