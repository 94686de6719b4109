import type { DataSource, EntityManager } from 'typeorm';

/** One reading as the platform moves it around: epoch milliseconds, not Date objects. */
export interface Reading {
  machineId: string;
  sensor: string;
  /** Epoch milliseconds. */
  time: number;
  value: number;
}

/** One bucket of the per-minute aggregate. */
export interface ReadingBucket {
  bucket: Date;
  machineId: string;
  sensor: string;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface ReadingsQuery {
  machineId: string;
  sensor?: string;
  from: Date;
  to: Date;
}

/**
 * All SQL on the `readings` table and its per-minute aggregate `readings_1m`. The same queries
 * serve TimescaleDB (hypertable, continuous aggregate) and plain PostgreSQL (table, view).
 */
export class ReadingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores readings idempotently: a reading already stored under (machine, sensor, time) is
   * skipped, so redelivered messages store nothing twice. One statement, arrays passed as
   * parameters (`unnest`), which is the fastest idempotent insert both databases offer.
   * @returns the number of rows actually inserted.
   */
  async insertMany(readings: readonly Reading[], manager: EntityManager = this.dataSource.manager): Promise<number> {
    if (readings.length === 0) return 0;
    const times = new Array<string>(readings.length);
    const machines = new Array<string>(readings.length);
    const sensors = new Array<string>(readings.length);
    const values = new Array<number>(readings.length);
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i];
      times[i] = new Date(r.time).toISOString();
      machines[i] = r.machineId;
      sensors[i] = r.sensor;
      values[i] = r.value;
    }
    const rows: { n: number }[] = await manager.query(
      `WITH inserted AS (
         INSERT INTO readings (time, machine_id, sensor, value)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[])
         ON CONFLICT DO NOTHING
         RETURNING 1
       ) SELECT count(*)::int AS n FROM inserted`,
      [times, machines, sensors, values],
    );
    return rows[0].n;
  }

  /** Raw readings of a machine (optionally one sensor) in [from, to), oldest first (see `rangeQuery`). */
  async range(query: ReadingsQuery, limit = 10_000): Promise<Reading[]> {
    const sensors = query.sensor !== undefined ? [query.sensor] : await this.sensorsOf(query.machineId);
    if (sensors.length === 0) return [];
    const { text, values } = rangeQuery(query.machineId, sensors, query.from, query.to, limit);
    const rows: { sensor: string; time: Date; value: number }[] = await this.dataSource.query(text, values);
    return rows.map((r) => ({
      machineId: query.machineId,
      sensor: r.sensor,
      time: new Date(r.time).getTime(),
      value: r.value,
    }));
  }

  /**
   * The sensors a machine has readings of, in database order: a loose index scan of the primary
   * key (machine_id, sensor, time), one probe per sensor, however many readings each one has.
   */
  async sensorsOf(machineId: string): Promise<string[]> {
    const rows: { sensor: string }[] = await this.dataSource.query(
      `WITH RECURSIVE sensors(sensor) AS (
         (SELECT sensor FROM readings WHERE machine_id = $1 ORDER BY sensor LIMIT 1)
         UNION ALL
         SELECT (SELECT r.sensor FROM readings r WHERE r.machine_id = $1 AND r.sensor > s.sensor
                 ORDER BY r.sensor LIMIT 1)
         FROM sensors s WHERE s.sensor IS NOT NULL
       )
       SELECT sensor FROM sensors WHERE sensor IS NOT NULL`,
      [machineId],
    );
    return rows.map((r) => r.sensor);
  }

  /** Per-minute avg/min/max/count of a machine's readings with buckets starting in [from, to). */
  async perMinute(query: ReadingsQuery): Promise<ReadingBucket[]> {
    const rows: {
      bucket: Date;
      machine_id: string;
      sensor: string;
      avg: number;
      min: number;
      max: number;
      count: string | number;
    }[] = await this.dataSource.query(
      `SELECT bucket, machine_id, sensor, avg, min, max, count FROM readings_1m
         WHERE machine_id = $1 AND ($2::text IS NULL OR sensor = $2) AND bucket >= $3 AND bucket < $4
         ORDER BY bucket, sensor`,
      [query.machineId, query.sensor ?? null, query.from, query.to],
    );
    return rows.map((r) => ({
      bucket: new Date(r.bucket),
      machineId: r.machine_id,
      sensor: r.sensor,
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      count: Number(r.count),
    }));
  }

  /**
   * Buckets of `bucketSeconds` (a multiple of 60) built from the per-minute aggregate: averages
   * weighted by count, so the numbers equal those computed from the raw readings.
   */
  async aggregate(query: ReadingsQuery, bucketSeconds: number): Promise<ReadingBucket[]> {
    const rows: { bucket: Date; sensor: string; avg: number; min: number; max: number; count: string | number }[] =
      await this.dataSource.query(
        `SELECT date_bin(make_interval(secs => $5), bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, sensor,
                sum(avg * count) / sum(count) AS avg, min(min) AS min, max(max) AS max, sum(count)::bigint AS count
         FROM readings_1m
         WHERE machine_id = $1 AND ($2::text IS NULL OR sensor = $2) AND bucket >= $3 AND bucket < $4
         GROUP BY 1, sensor ORDER BY 1, sensor`,
        [query.machineId, query.sensor ?? null, query.from, query.to, bucketSeconds],
      );
    return rows.map((r) => ({
      bucket: new Date(r.bucket),
      machineId: query.machineId,
      sensor: r.sensor,
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      count: Number(r.count),
    }));
  }

  async count(machineId?: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM readings WHERE $1::text IS NULL OR machine_id = $1`,
      [machineId ?? null],
    );
    return row.n;
  }
}

/**
 * The SQL of `ReadingsRepository.range`: the first `limit` readings of a machine's `sensors` in
 * [from, to), ordered by (time, sensor). Each sensor is a range of the primary key (machine_id,
 * sensor, time) read in time order, and the planner merges them (Merge Append), so the query reads
 * about `limit` rows whatever the table holds. A plain `machine_id = $1 AND time ...` cannot
 * follow the key's order: the planner then either scans the machine's whole history or walks the
 * time index through every machine's readings of the range (the plan that stalled the twin's fetch
 * on a large table, docs/twin.md).
 */
export function rangeQuery(
  machineId: string,
  sensors: readonly string[],
  from: Date,
  to: Date,
  limit: number,
): { text: string; values: unknown[] } {
  const branches = sensors.map(
    (_, i) =>
      `(SELECT $${i + 5}::text AS sensor, time, value FROM readings
        WHERE machine_id = $1 AND sensor = $${i + 5} AND time >= $2 AND time < $3 ORDER BY time LIMIT $4)`,
  );
  return {
    text: `SELECT sensor, time, value FROM (${branches.join(' UNION ALL ')}) r ORDER BY time, sensor LIMIT $4`,
    values: [machineId, from, to, limit, ...sensors],
  };
}
