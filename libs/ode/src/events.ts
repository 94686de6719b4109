/**
 * Event location: a zero of g(t) = fn(t, y(t)) is bracketed by the sign of g at the ends of an
 * accepted step and located on the step's dense output (Shampine & Thompson, "Event location for
 * ordinary differential equations", Comput. Math. Appl. 39, 2000; Hairer, Nørsett & Wanner I, II.6).
 */

/** An event function and how to treat its zeros. `Y` is the state type of the backend. */
export interface EventSpec<Y> {
  /** g(t, y); an event is a sign change of its value. */
  fn(t: number, y: Y): number;
  /** +1: only rising crossings (g goes from negative to positive); -1: only falling; 0 (default): both. */
  direction?: -1 | 0 | 1;
  /** Stop the integration at the first such event (default false). */
  terminal?: boolean;
}

/** An event that occurred. */
export interface OdeEvent<Y> {
  /** Index of the event function in `options.events`. */
  index: number;
  /** Time of the zero crossing. */
  t: number;
  /** State at that time (from the dense output). */
  y: Y;
}

/** Whether the values g0 → g1 cross zero in the requested direction. */
export function crosses(g0: number, g1: number, direction: -1 | 0 | 1): boolean {
  const rising = g0 < 0 && g1 >= 0;
  const falling = g0 > 0 && g1 <= 0;
  return direction === 1 ? rising : direction === -1 ? falling : rising || falling;
}

/**
 * Brent's method (R. P. Brent, *Algorithms for Minimization without Derivatives*, 1973, ch. 4) for a
 * root of g in the bracket [a, b] with g(a) g(b) ≤ 0; returns t with |t - t*| ≤ xtol-ish.
 */
export function brentRoot(
  g: (t: number) => number,
  a: number,
  b: number,
  ga: number,
  gb: number,
  xtol: number,
): number {
  if (ga === 0) return a;
  if (gb === 0) return b;
  let c = a;
  let gc = ga;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < 200; iter++) {
    if (Math.sign(gb) === Math.sign(gc)) {
      c = a;
      gc = ga;
      d = b - a;
      e = d;
    }
    if (Math.abs(gc) < Math.abs(gb)) {
      a = b;
      b = c;
      c = a;
      ga = gb;
      gb = gc;
      gc = ga;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + 0.5 * xtol;
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || gb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(ga) > Math.abs(gb)) {
      let p: number;
      let q: number;
      const s = gb / ga;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qq = ga / gc;
        const r = gb / gc;
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = d;
      }
    } else {
      d = m;
      e = d;
    }
    a = b;
    ga = gb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    gb = g(b);
  }
  return b;
}
