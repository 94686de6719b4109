import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Time-series features of `readings`, with TimescaleDB where the extension can be created and a
 * plain-PostgreSQL fallback where it cannot:
 *
 * - TimescaleDB: `readings` becomes a hypertable (1-day chunks) compressed after 7 days (segmented
 *   by machine and sensor, ordered by time desc), and `readings_1m` is a real-time continuous
 *   aggregate (avg, min, max, count per minute) refreshed every minute. Retention and the
 *   compression delay are applied from configuration at start (ReadingsPolicies), not here.
 * - Plain PostgreSQL: `readings_1m` is a view with the same columns computed with `date_bin`.
 *
 * Runs outside a transaction: TimescaleDB refuses to create a continuous aggregate inside one.
 */
export class ReadingsTimeSeries1764547200001 implements MigrationInterface {
  name = 'ReadingsTimeSeries1764547200001';
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    if (await enableTimescaleDb(q)) {
      await q.query(
        `SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'), create_default_indexes => false, migrate_data => true)`,
      );
      await q.query(`
        ALTER TABLE readings SET (
          timescaledb.compress,
          timescaledb.compress_segmentby = 'machine_id, sensor',
          timescaledb.compress_orderby = 'time DESC'
        )`);
      await q.query(`SELECT add_compression_policy('readings', compress_after => INTERVAL '7 days')`);
      await q.query(`
        CREATE MATERIALIZED VIEW readings_1m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, machine_id, sensor,
               avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
        FROM readings
        GROUP BY bucket, machine_id, sensor
        WITH NO DATA`);
      await q.query(`
        SELECT add_continuous_aggregate_policy('readings_1m',
          start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 minute',
          schedule_interval => INTERVAL '1 minute')`);
    } else {
      await q.query(`
        CREATE VIEW readings_1m AS
        SELECT date_bin(INTERVAL '1 minute', time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, machine_id, sensor,
               avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
        FROM readings
        GROUP BY bucket, machine_id, sensor`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const [{ timescale }] = await q.query(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS timescale`,
    );
    if (timescale) {
      await q.query(`DROP MATERIALIZED VIEW readings_1m`);
      // A hypertable cannot be turned back into a table in place: copy it into a plain one.
      await q.query(`SELECT remove_compression_policy('readings', if_exists => true)`);
      await q.query(`SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('readings') c`);
      await q.query(`
        CREATE TABLE readings_plain (LIKE readings INCLUDING DEFAULTS);
        INSERT INTO readings_plain SELECT * FROM readings;
        DROP TABLE readings;
        ALTER TABLE readings_plain RENAME TO readings;
        ALTER TABLE readings ADD CONSTRAINT readings_pkey PRIMARY KEY (machine_id, sensor, time);
        CREATE INDEX readings_time_desc_idx ON readings (time DESC);`);
    } else {
      await q.query(`DROP VIEW readings_1m`);
    }
  }
}

/** Creates the timescaledb extension if the server has it; false where it is absent or refused. */
async function enableTimescaleDb(q: QueryRunner): Promise<boolean> {
  const available = await q.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
  if (available.length === 0) return false;
  try {
    await q.query(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
    return true;
  } catch {
    // e.g. installed but not in shared_preload_libraries, or no privilege: fall back to plain SQL.
    return false;
  }
}
