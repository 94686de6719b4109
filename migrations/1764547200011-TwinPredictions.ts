import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * apps/twin (issue 9):
 *
 * - `twin_predictions`: the twin's predictions (downsampled per machine) beside reality, for the
 *   dashboard: per sensor the predicted mean and standard deviation, the reading and its z-score, and
 *   the anomaly score, solver work and model version. A TimescaleDB hypertable (1-day chunks) where the
 *   extension can be created, a plain table otherwise.
 * - `twin_partition_leases` and `twin_instances`: machines map to partitions (hash of the machine id);
 *   each twin instance holds its partitions through lease rows with an expiry, renewed while it runs
 *   (lease rows work alike on PostgreSQL and PGlite), and announces itself so that instances can split
 *   the partitions fairly.
 *
 * Runs outside a transaction, like ReadingsTimeSeries (create_hypertable).
 */
export class TwinPredictions1764547200011 implements MigrationInterface {
  name = 'TwinPredictions1764547200011';
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE twin_predictions (
        time timestamptz NOT NULL,
        machine_id text NOT NULL,
        model_version text NOT NULL,
        anomaly_score double precision NOT NULL,
        nfe integer NOT NULL,
        solver_error double precision NOT NULL,
        -- { "<sensor>": { "mean": m, "std": s, "value"?: x, "z"?: z } }
        sensors jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX twin_predictions_machine_time_idx ON twin_predictions (machine_id, time DESC)`);
    const [{ timescale }] = await q.query(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS timescale`,
    );
    if (timescale)
      await q.query(
        `SELECT create_hypertable('twin_predictions', by_range('time', INTERVAL '1 day'), create_default_indexes => false)`,
      );
    await q.query(`
      CREATE TABLE twin_partition_leases (
        partition integer PRIMARY KEY,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE twin_instances (
        instance text PRIMARY KEY,
        seen_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE twin_instances`);
    await q.query(`DROP TABLE twin_partition_leases`);
    await q.query(`DROP TABLE twin_predictions`);
  }
}
