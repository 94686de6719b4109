/**
 * The reference of apps/alerting's `residual-mewma` detector as alert-rule params: how healthy
 * machines' time-aware residual averages vary (mean and covariance per sensor). A contract between
 * the api, which validates a rule when it is stored, and alerting, which runs it (docs/alerting.md).
 */
/** Mean and covariance of the averaged residuals of healthy machines (one asset type, one model). */
export interface ResidualReference {
  sensors: string[];
  mean: number[];
  /** Row-major, sensors × sensors, symmetric positive definite. */
  covariance: number[][];
}

const MEAN = 'mean.';
const COV = 'cov.';

/**
 * The reference as rule params (numbers only, so the api stores and edits it like any other param):
 * `mean.<sensor>` and `cov.<a>.<b>` for each pair a ≤ b in the reference's order.
 */
export function referenceToParams(ref: ResidualReference): Record<string, number> {
  const out: Record<string, number> = {};
  ref.sensors.forEach((s, i) => (out[`${MEAN}${s}`] = ref.mean[i]));
  ref.sensors.forEach((a, i) => {
    for (let j = i; j < ref.sensors.length; j++) out[`${COV}${a}.${ref.sensors[j]}`] = ref.covariance[i][j];
  });
  return out;
}

/**
 * Reads a reference out of rule params; throws an error that says what is missing or wrong (the api
 * answers it with a 400). Sensor names must not contain dots.
 */
export function referenceFromParams(params: Record<string, number>): ResidualReference {
  const sensors = Object.keys(params)
    .filter((k) => k.startsWith(MEAN))
    .map((k) => k.slice(MEAN.length));
  if (sensors.length === 0)
    throw new Error('residual-mewma needs a reference: params mean.<sensor> and cov.<a>.<b> (see docs/alerting.md)');
  const bad = sensors.find((s) => s.length === 0 || s.includes('.'));
  if (bad !== undefined) throw new Error(`residual-mewma: "${MEAN}${bad}" does not name a sensor (no dots in names)`);
  const known = new Set(sensors);
  for (const key of Object.keys(params).filter((k) => k.startsWith(COV))) {
    const pair = key.slice(COV.length).split('.');
    if (pair.length !== 2 || !known.has(pair[0]) || !known.has(pair[1]))
      throw new Error(`residual-mewma: "${key}" is not cov.<a>.<b> of two sensors that have a mean`);
  }
  const covariance = sensors.map((a) =>
    sensors.map((b) => {
      const v = params[`${COV}${a}.${b}`] ?? params[`${COV}${b}.${a}`];
      if (v === undefined) throw new Error(`residual-mewma: the reference lacks ${COV}${a}.${b}`);
      return v;
    }),
  );
  const ref = { sensors, mean: sensors.map((s) => params[`${MEAN}${s}`]), covariance };
  residualReferenceCholesky(ref); // positive definite, or a clear error
  return ref;
}

/** The reference's marginal over some of its sensors. */
export function restrictReference(ref: ResidualReference, sensors: readonly string[] | null): ResidualReference {
  if (!sensors) return ref;
  const missing = sensors.filter((s) => !ref.sensors.includes(s));
  if (missing.length) throw new Error(`residual-mewma: no reference for ${missing.join(', ')}`);
  const idx = sensors.map((s) => ref.sensors.indexOf(s));
  return {
    sensors: [...sensors],
    mean: idx.map((i) => ref.mean[i]),
    covariance: idx.map((i) => idx.map((j) => ref.covariance[i][j])),
  };
}

/** Lower-triangular L with L Lᵀ = Σ; throws when Σ is not symmetric positive definite. */
export function residualReferenceCholesky(ref: ResidualReference): number[][] {
  const { covariance: a, sensors } = ref;
  const n = sensors.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (Math.abs(a[i][j] - a[j][i]) > 1e-9 * Math.max(1, Math.abs(a[i][j])))
        throw new Error(`residual-mewma: the covariance is not symmetric (${sensors[i]}, ${sensors[j]})`);
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(s > 0)) throw new Error('residual-mewma: the covariance is not positive definite');
        l[i][i] = Math.sqrt(s);
      } else l[i][j] = s / l[j][j];
    }
  }
  return l;
}
