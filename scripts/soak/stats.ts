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

/**
 * How far RSS may rise above its early high-water mark: RSS does not fall back after a peak (the
 * twin's WASM memory and glibc's malloc arenas keep what they once took), so its slope says more
 * about when the peak came than about a leak. A high-water mark reached in the first half and not
 * exceeded is not a leak; one that keeps rising is. The margin absorbs fragmentation and a late
 * batch slightly larger than the early ones.
 */
export const RSS_MARGIN = { fraction: 0.1, minMiB: 16 };

/**
 * The RSS high-water check: the peak of the second half (x >= `split`) against the peak of the
 * first half plus max(10 %, 16 MiB). `points` are [time, RSS in MiB]. `ok` is false where either
 * half has no sample (nothing to compare is no evidence of boundedness).
 */
export function rssHighWater(
  points: readonly (readonly [number, number])[],
  split: number,
): { firstPeak: number; secondPeak: number; limit: number; ok: boolean } {
  let firstPeak = -Infinity;
  let secondPeak = -Infinity;
  for (const [x, y] of points) {
    if (x < split) firstPeak = Math.max(firstPeak, y);
    else secondPeak = Math.max(secondPeak, y);
  }
  if (!Number.isFinite(firstPeak) || !Number.isFinite(secondPeak))
    return { firstPeak: NaN, secondPeak: NaN, limit: NaN, ok: false };
  const limit = firstPeak + Math.max(RSS_MARGIN.fraction * firstPeak, RSS_MARGIN.minMiB);
  return { firstPeak, secondPeak, limit, ok: secondPeak <= limit };
}

/**
 * One point per measurement from samples that repeat the latest one: the probe measures the
 * retained heap every 30 s, the soak samples every 5 s and records the latest measurement with its
 * time, so the same [t, value] appears several times. Sorted by t; the first of each t is kept.
 */
export function distinctByTime(points: readonly (readonly [number, number])[]): [number, number][] {
  const seen = new Map<number, number>();
  for (const [t, y] of points) if (!seen.has(t)) seen.set(t, y);
  return [...seen].sort((a, b) => a[0] - b[0]);
}

export const MiB = 1024 * 1024;
export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '—';
