/**
 * A `residual-mewma` reference from history: the twin's stored residuals (`twin_predictions`) of
 * machines of one asset type over a period when they were healthy, fitted as the detector will
 * average them (see detectors/mewma.ts). `npm run alerting:calibrate` runs it; the evaluation
 * (`npm run eval:alerts`, EVAL_CALIBRATE) fits the shipped references the same way from a simulated
 * healthy fleet.
 *
 * What is stored is one update per machine per TWIN_PREDICTIONS_INTERVAL_MS (1 minute by default), not
 * every update, so the averages see fewer readings than the live detector's. On the evaluation fleets
 * a reference fitted from one update per machine per minute was a little less sensitive than one from
 * every update (61 of 62 failures, lead 10.3 h against 62 and 11.4 h; no healthy machine alerted either
 * way: docs/alerting.md). TWIN_PREDICTIONS_INTERVAL_MS=0 stores every update.
 */
import type { MachinesRepository, TwinPredictionRow, TwinPredictionsRepository } from '@continuum/persistence';
import { DEFAULT_MEWMA, ReferenceFit, type MewmaParams, type ResidualReference } from '../detectors/mewma';

export interface CalibrationRequest {
  assetType: string;
  from: Date;
  to: Date;
  /** Machines to learn from (default: every machine of the asset type). Pick healthy ones. */
  machineIds?: readonly string[];
  /** Only rows of this model version (default: the version of the newest row). */
  modelVersion?: string;
  mewma?: Partial<MewmaParams>;
}

export interface Calibration {
  reference: ResidualReference;
  modelVersion: string;
  /** Rows read and averages sampled, per machine. */
  machines: { machineId: string; rows: number; samples: number }[];
  samples: number;
  /** The averages' correlations (row-major, reference order): what the detector will hold machines to. */
  correlation: number[][];
}

const PAGE = 10_000;

/** Every stored prediction of a machine in [from, to), oldest first, read a page at a time. */
async function* history(
  repo: Pick<TwinPredictionsRepository, 'range'>,
  machineId: string,
  from: Date,
  to: Date,
): AsyncGenerator<TwinPredictionRow> {
  let since = from;
  for (;;) {
    const rows = await repo.range(machineId, since, to, PAGE);
    yield* rows;
    if (rows.length < PAGE) return;
    since = new Date(rows[rows.length - 1].time + 1);
  }
}

/**
 * Fits the reference. Errors say what to change: no machine of the asset type, no stored prediction
 * in the period, too few samples for the number of sensors.
 */
export async function calibrateFromHistory(
  repos: {
    machines: Pick<MachinesRepository, 'list'>;
    predictions: Pick<TwinPredictionsRepository, 'range' | 'latest'>;
  },
  request: CalibrationRequest,
  progress: (line: string) => void = () => {},
): Promise<Calibration> {
  const { assetType, from, to } = request;
  if (!(from.getTime() < to.getTime())) throw new Error('the period is empty: from must be before to');
  const ofType = (await repos.machines.list({ assetType })).map((m) => m.id).sort((a, b) => a.localeCompare(b));
  const machineIds = request.machineIds ?? ofType;
  if (machineIds.length === 0) throw new Error(`no machine of asset type ${assetType}`);
  // A reference mixes no asset types: each has its own sensors and its own model.
  const strangers = machineIds.filter((id) => !ofType.includes(id));
  if (strangers.length) throw new Error(`not machines of asset type ${assetType}: ${strangers.join(', ')}`);
  const modelVersion =
    request.modelVersion ??
    (await repos.predictions.latest(machineIds)).sort((a, b) => b.time - a.time)[0]?.modelVersion;
  if (!modelVersion) throw new Error(`no stored twin prediction for ${machineIds.join(', ')}`);

  const params = { ...DEFAULT_MEWMA, ...request.mewma };
  let fit: ReferenceFit | null = null;
  const machines: Calibration['machines'] = [];
  for (const [i, machineId] of machineIds.entries()) {
    let rows = 0;
    const before = fit?.samples ?? 0;
    for await (const row of history(repos.predictions, machineId, from, to)) {
      if (row.modelVersion !== modelVersion) continue;
      const residuals: Record<string, number> = {};
      for (const [sensor, p] of Object.entries(row.sensors)) if (p.z !== undefined) residuals[sensor] = p.z;
      // The sensors are the model's: every stored row names them all (mean and std of each).
      fit ??= new ReferenceFit(Object.keys(row.sensors), params);
      fit.add({ machineId, ts: row.time, residuals });
      rows++;
    }
    const samples = (fit?.samples ?? 0) - before;
    machines.push({ machineId, rows, samples });
    progress(
      `  ${i + 1}/${machineIds.length} ${machineId}: ${rows} predictions of ${modelVersion}, ${samples} samples`,
    );
  }
  if (!fit)
    throw new Error(`no twin prediction of ${modelVersion} between ${from.toISOString()} and ${to.toISOString()}`);
  const reference = fit.reference();
  const sd = reference.covariance.map((row, i) => Math.sqrt(row[i]));
  return {
    reference,
    modelVersion,
    machines,
    samples: fit.samples,
    correlation: reference.covariance.map((row, i) => row.map((c, j) => c / (sd[i] * sd[j]))),
  };
}
