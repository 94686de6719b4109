import type { DataSource } from 'typeorm';

/** One stored twin prediction (downsampled): what the twin expected beside what the sensors read. */
export interface TwinPredictionRow {
  /** Epoch milliseconds. */
  time: number;
  machineId: string;
  modelVersion: string;
  anomalyScore: number;
  nfe: number;
  solverError: number;
  sensors: Record<string, { mean: number; std: number; value?: number; z?: number }>;
}

/** All SQL on `twin_predictions` (a TimescaleDB hypertable, or a plain table). */
export class TwinPredictionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends rows in one statement (`unnest` of arrays). */
  async insertMany(rows: readonly TwinPredictionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO twin_predictions (time, machine_id, model_version, anomaly_score, nfe, solver_error, sensors)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::int[], $6::float8[], $7::jsonb[])`,
      [
        rows.map((r) => new Date(r.time).toISOString()),
        rows.map((r) => r.machineId),
        rows.map((r) => r.modelVersion),
        rows.map((r) => r.anomalyScore),
        rows.map((r) => r.nfe),
        rows.map((r) => r.solverError),
        rows.map((r) => JSON.stringify(r.sensors)),
      ],
    );
  }

  /** The newest stored prediction of each of the machines (those without one are absent). */
  async latest(machineIds: readonly string[]): Promise<TwinPredictionRow[]> {
    if (machineIds.length === 0) return [];
    const rows: RawPrediction[] = await this.dataSource.query(
      `SELECT DISTINCT ON (machine_id) time, machine_id, model_version, anomaly_score, nfe, solver_error, sensors
       FROM twin_predictions WHERE machine_id = ANY($1::text[]) ORDER BY machine_id, time DESC`,
      [[...machineIds]],
    );
    return rows.map(toRow);
  }

  /** A machine's predictions in [from, to), oldest first. */
  async range(machineId: string, from: Date, to: Date, limit = 10_000): Promise<TwinPredictionRow[]> {
    const rows: RawPrediction[] = await this.dataSource.query(
      `SELECT time, machine_id, model_version, anomaly_score, nfe, solver_error, sensors FROM twin_predictions
       WHERE machine_id = $1 AND time >= $2 AND time < $3 ORDER BY time LIMIT $4`,
      [machineId, from, to, limit],
    );
    return rows.map(toRow);
  }
}

interface RawPrediction {
  time: Date;
  machine_id: string;
  model_version: string;
  anomaly_score: number;
  nfe: number;
  solver_error: number;
  sensors: TwinPredictionRow['sensors'] | string;
}

function toRow(r: RawPrediction): TwinPredictionRow {
  return {
    time: new Date(r.time).getTime(),
    machineId: r.machine_id,
    modelVersion: r.model_version,
    anomalyScore: Number(r.anomaly_score),
    nfe: Number(r.nfe),
    solverError: Number(r.solver_error),
    sensors: typeof r.sensors === 'string' ? JSON.parse(r.sensors) : r.sensors,
  };
}
