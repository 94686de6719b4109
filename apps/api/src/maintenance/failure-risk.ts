/**
 * Probability that a machine has failed by a given time, from its remaining-useful-life quantiles.
 * A log-normal RUL is fitted to p10/p50/p90 (median from p50, log-spread from the p10–p90 span),
 * the usual shape of wear-out lifetimes; with no RUL the risk is zero.
 */
export interface RulQuantiles {
  /** Hours from `asOf` at which the machine has failed with probability 0.1 / 0.5 / 0.9. */
  p10: number;
  p50: number;
  p90: number;
}

const Z90 = 1.2815515655446004; // standard normal quantile at 0.9

/** P(failed within `hours` from now) under the log-normal fitted to the quantiles. */
export function failureProbability(rul: RulQuantiles | null | undefined, hours: number): number {
  if (!rul || hours <= 0) return 0;
  const median = Math.max(rul.p50, 1e-6);
  const spread = Math.log(Math.max(rul.p90, median * 1.0001) / Math.max(rul.p10, 1e-6)) / (2 * Z90);
  const sigma = Math.max(spread, 1e-3);
  return normalCdf(Math.log(hours / median) / sigma);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 on erf; absolute error below 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
