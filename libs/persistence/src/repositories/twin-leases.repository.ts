import type { DataSource } from 'typeorm';

/**
 * Partition leases of the twin service (`twin_partition_leases`, `twin_instances`): an instance holds a
 * partition while its lease row is unexpired and names it; expired rows may be taken by anyone. Every
 * time comparison uses the database clock (`now()`), so instances need no synchronised clocks.
 */
export class TwinLeasesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Announces an instance (heartbeat) and returns how many instances were seen within `ttlMs`. */
  async heartbeat(instance: string, ttlMs: number): Promise<number> {
    await this.dataSource.query(
      `INSERT INTO twin_instances (instance, seen_at) VALUES ($1, now())
       ON CONFLICT (instance) DO UPDATE SET seen_at = now()`,
      [instance],
    );
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM twin_instances WHERE seen_at > now() - make_interval(secs => $1::float8 / 1000)`,
      [ttlMs],
    );
    return row.n;
  }

  /** Extends the instance's leases on these partitions; returns those it still holds. */
  async renew(instance: string, partitions: readonly number[], ttlMs: number): Promise<number[]> {
    if (partitions.length === 0) return [];
    const result: unknown[] = await this.dataSource.query(
      `UPDATE twin_partition_leases SET expires_at = now() + make_interval(secs => $3::float8 / 1000)
       WHERE owner = $1 AND partition = ANY($2::int[]) RETURNING partition`,
      [instance, partitions, ttlMs],
    );
    // TypeORM answers UPDATE ... RETURNING with [rows, affected].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { partition: number }[];
    return rows.map((r) => Number(r.partition));
  }

  /**
   * Claims up to `limit` partitions in [0, count) that nobody holds or whose lease expired (lowest
   * first); returns the partitions claimed.
   */
  async claim(instance: string, count: number, limit: number, ttlMs: number): Promise<number[]> {
    if (limit <= 0) return [];
    const rows: { partition: number }[] = await this.dataSource.query(
      `WITH candidates AS (
         SELECT p FROM generate_series(0, $2::int - 1) p
         WHERE NOT EXISTS (SELECT 1 FROM twin_partition_leases l WHERE l.partition = p AND l.expires_at > now())
         ORDER BY p LIMIT $3
       )
       INSERT INTO twin_partition_leases AS l (partition, owner, expires_at, acquired_at)
       SELECT p, $1, now() + make_interval(secs => $4::float8 / 1000), now() FROM candidates
       ON CONFLICT (partition) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at,
         acquired_at = EXCLUDED.acquired_at
       WHERE l.expires_at <= now()
       RETURNING partition`,
      [instance, count, limit, ttlMs],
    );
    return rows.map((r) => Number(r.partition));
  }

  /** Gives partitions up (their leases are deleted, so another instance can claim them at once). */
  async release(instance: string, partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    await this.dataSource.query(`DELETE FROM twin_partition_leases WHERE owner = $1 AND partition = ANY($2::int[])`, [
      instance,
      partitions,
    ]);
  }

  /** Removes an instance's heartbeat and every lease it holds (shutdown). */
  async leave(instance: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM twin_partition_leases WHERE owner = $1`, [instance]);
    await this.dataSource.query(`DELETE FROM twin_instances WHERE instance = $1`, [instance]);
  }

  /** Who holds which partition (unexpired leases). */
  async owners(): Promise<Map<number, string>> {
    const rows: { partition: number; owner: string }[] = await this.dataSource.query(
      `SELECT partition, owner FROM twin_partition_leases WHERE expires_at > now() ORDER BY partition`,
    );
    return new Map(rows.map((r) => [Number(r.partition), r.owner]));
  }
}
