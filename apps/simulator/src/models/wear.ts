/**
 * Wear laws of the hidden degradation state w (failure at w = 1), both driven by a stress factor
 * s(t) that is 1 at the nominal operating point and 0 when the machine stands still:
 *
 * - exponential: dw/dt = k s w — self-accelerating damage (insulation ageing, spalling);
 * - Paris: dw/dt = k s w^n with n = m/2 — fatigue crack growth da/dN = C (ΔK)^m with
 *   ΔK ∝ Δσ √(π a) (P. C. Paris & F. Erdogan, "A critical analysis of crack propagation laws",
 *   J. Basic Eng. 85, 1963); here m = 3, so n = 1.5.
 *
 * At constant nominal stress the failure time is T = g(w0) / k with g below, which is what the
 * failure-time tests compare the simulated fleet against.
 */
export type WearLaw = 'exponential' | 'paris';

/** Exponent n of the Paris law (m = 3). */
export const PARIS_EXPONENT = 1.5;

/** dw/dt for a wear w, rate k and stress s. */
export function wearRate(law: WearLaw, k: number, stress: number, w: number): number {
  const wPos = Math.max(w, 0);
  return law === 'exponential' ? k * stress * wPos : k * stress * Math.pow(wPos, PARIS_EXPONENT);
}

/** g(w0) such that the failure time at constant unit stress is g(w0) / k. */
export function timeToFailureFactor(law: WearLaw, w0: number): number {
  if (law === 'exponential') return Math.log(1 / w0);
  const n = PARIS_EXPONENT;
  return (Math.pow(w0, 1 - n) - 1) / (n - 1);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 through erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * CDF of the failure time at constant nominal stress for rate k ~ LogNormal(median, sigma) and
 * initial wear w0 ~ Uniform(lo, hi): F(t) = E_w0[ P(k >= g(w0) / t) ], by midpoint quadrature in w0.
 */
export function failureTimeCdf(
  law: WearLaw,
  rateMedian: number,
  rateSigma: number,
  initialRange: readonly [number, number],
  t: number,
): number {
  if (t <= 0) return 0;
  const [lo, hi] = initialRange;
  const n = 400;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w0 = lo + ((i + 0.5) / n) * (hi - lo);
    const kNeeded = timeToFailureFactor(law, w0) / t;
    sum += 1 - normalCdf((Math.log(kNeeded) - Math.log(rateMedian)) / rateSigma);
  }
  return sum / n;
}
