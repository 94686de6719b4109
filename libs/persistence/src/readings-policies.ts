import type { DatabaseConfig } from '@continuum/config';
import type { Database } from './database';

/**
 * Applies the configured compression delay and retention to `readings` (TimescaleDB only; on
 * plain PostgreSQL there is nothing to apply and this returns false). Idempotent: run at every
 * start so that changing READINGS_RETENTION_DAYS or READINGS_COMPRESS_AFTER_DAYS takes effect.
 */
export async function applyReadingsPolicies(db: Database, readings: DatabaseConfig['readings']): Promise<boolean> {
  if (!db.capabilities.timescaledb) return false;
  const q = (sql: string, params?: unknown[]) => db.dataSource.query(sql, params);
  const [hypertable] = await q(`SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings'`);
  if (!hypertable) return false;
  await q(`SELECT remove_compression_policy('readings', if_exists => true)`);
  await q(`SELECT add_compression_policy('readings', compress_after => make_interval(days => $1::int))`, [
    readings.compressAfterDays,
  ]);
  await q(`SELECT remove_retention_policy('readings', if_exists => true)`);
  if (readings.retentionDays > 0) {
    await q(`SELECT add_retention_policy('readings', drop_after => make_interval(days => $1::int))`, [
      readings.retentionDays,
    ]);
  }
  return true;
}

/**
 * Runs TimescaleDB's policy jobs (continuous-aggregate refresh, compression, retention) on their
 * schedules. A TimescaleDB server runs them in background workers; PGlite has none, so embedded
 * mode keeps one of these and calls `runDue` on a timer. Jobs run in the foreground through
 * `CALL run_job(id)`, which does not record job statistics, so the last runs are kept here.
 */
export class EmbeddedJobScheduler {
  private readonly lastRun = new Map<number, number>();

  constructor(private readonly db: Database) {}

  /** Runs every policy job whose schedule interval has passed since its last run; returns their ids. */
  async runDue(now = Date.now()): Promise<number[]> {
    if (!this.db.capabilities.timescaledb) return [];
    const jobs: { job_id: number; interval_s: number }[] = await this.db.dataSource.query(
      `SELECT job_id, extract(epoch FROM schedule_interval)::float8 AS interval_s FROM timescaledb_information.jobs
       WHERE scheduled AND proc_name IN ('policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention')
       ORDER BY job_id`,
    );
    const due = jobs.filter((j) => now - (this.lastRun.get(j.job_id) ?? -Infinity) >= j.interval_s * 1000);
    for (const { job_id } of due) {
      await this.db.dataSource.query(`CALL run_job($1)`, [job_id]);
      this.lastRun.set(job_id, now);
    }
    return due.map((j) => j.job_id);
  }
}
