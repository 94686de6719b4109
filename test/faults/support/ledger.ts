import { readingKey } from './logging-publisher';

/** One line of the fault table. */
export interface FaultRow {
  fault: string;
  /** Readings acknowledged (PUBACK) to the publisher during the fault's window. */
  published: number;
  /** Of those, stored (exactly once: counted per (machine, sensor, time)). */
  stored: number;
  /** Rows stored more than once for one (machine, sensor, time). */
  duplicated: number;
  /** Acknowledged but not stored after recovery. */
  lost: number;
  /** From the end of the fault until everything acknowledged is stored and the services are back (s). */
  recoveryS: number;
  /** Twin and alert observations. */
  notes: string;
}

/** Runs SQL with parameters and returns the rows (a pg Pool, a TypeORM DataSource...). */
export type Query = (sql: string, params: unknown[]) => Promise<Record<string, any>[]>;

/** The stored readings of `machines`, as readingKey → number of rows. */
export async function storedReadings(query: Query, machines: readonly string[]): Promise<Map<string, number>> {
  const rows = await query(
    `SELECT machine_id, sensor, (extract(epoch FROM time) * 1000)::float8 AS t, count(*)::int AS n
     FROM readings WHERE machine_id = ANY($1) GROUP BY 1, 2, 3`,
    [machines],
  );
  return new Map(rows.map((r) => [readingKey(r.machine_id, r.sensor, Math.round(Number(r.t))), r.n]));
}

/** Counts `keys` against the stored readings. */
export function tally(keys: Iterable<string>, stored: Map<string, number>) {
  let published = 0;
  let found = 0;
  let duplicated = 0;
  for (const key of keys) {
    published++;
    const n = stored.get(key) ?? 0;
    if (n > 0) found++;
    if (n > 1) duplicated += n - 1;
  }
  return { published, stored: found, duplicated, lost: published - found };
}

/** The table the suite prints and docs/reliability.md records. */
export function formatTable(rows: readonly FaultRow[]): string {
  const head = ['fault', 'published', 'stored', 'duplicated', 'lost', 'recovery (s)', 'twin / alerts'];
  const body = rows.map((r) => [
    r.fault,
    String(r.published),
    String(r.stored),
    String(r.duplicated),
    String(r.lost),
    r.recoveryS.toFixed(1),
    r.notes,
  ]);
  return [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
