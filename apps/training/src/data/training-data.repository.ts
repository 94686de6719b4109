import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Reading } from '@continuum/persistence';

/** Which readings a job trains on. */
export interface DataSelection {
  machineIds: string[];
  from: Date;
  to: Date;
}

/**
 * The training service's reads of `readings` and `machines`: machine lists, sensor names and
 * readings in keyset-paginated chunks (never the whole range in one result).
 */
@Injectable()
export class TrainingDataRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Ids of the machines of an asset type (or those of `ids` that have it), sorted. */
  async machines(assetType: string, ids: string[] | null): Promise<{ id: string; sensors: string[] }[]> {
    const rows: { id: string; sensors: { name?: string }[] | null }[] = await this.dataSource.query(
      `SELECT id, sensors FROM machines WHERE asset_type = $1 AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY id`,
      [assetType, ids],
    );
    return rows.map((r) => ({
      id: r.id,
      sensors: (r.sensors ?? []).map((s) => s?.name).filter((n): n is string => typeof n === 'string'),
    }));
  }

  /** Whether any machine has this asset type. */
  async assetTypeExists(assetType: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM machines WHERE asset_type = $1 LIMIT 1`, [
      assetType,
    ]);
    return rows.length > 0;
  }

  /** Number of readings of the machines in the range, counted up to `cap` (a cheap "is there enough data"). */
  async countReadings(sel: DataSelection, cap: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM readings WHERE machine_id = ANY($1) AND time >= $2 AND time < $3 LIMIT $4) s`,
      [sel.machineIds, sel.from, sel.to, cap],
    );
    return rows[0]?.n ?? 0;
  }

  /** Distinct sensor names of the machines in the range, sorted. */
  async sensors(sel: DataSelection): Promise<string[]> {
    const rows: { sensor: string }[] = await this.dataSource.query(
      `SELECT DISTINCT sensor FROM readings WHERE machine_id = ANY($1) AND time >= $2 AND time < $3 ORDER BY sensor`,
      [sel.machineIds, sel.from, sel.to],
    );
    return rows.map((r) => r.sensor);
  }

  /**
   * Streams the readings of the selection ordered by (machine, time, sensor) in chunks of
   * `chunkRows`, calling `onChunk` for each. `sensors` are the selection's sensors in database order
   * (`sensors(sel)`).
   *
   * Each (machine, sensor) is read as its own range of the primary key (machine_id, sensor, time),
   * keyset-paginated on time, `chunkRows` rows at a time, and a machine's sensors are merged by time
   * here. A query on (machine, time) alone cannot follow the primary key's order: for every chunk
   * it scans the machine's whole history, or the time index through every machine's readings of the
   * range (the plan that stalled the twin's fetch on a large table, docs/twin.md).
   */
  async forEachChunk(
    sel: DataSelection,
    sensors: readonly string[],
    chunkRows: number,
    onChunk: (rows: Reading[]) => void | Promise<void>,
  ): Promise<number> {
    let total = 0;
    let chunk: Reading[] = [];
    const flush = async () => {
      total += chunk.length;
      const rows = chunk;
      chunk = [];
      await onChunk(rows);
    };
    for (const machineId of sel.machineIds) {
      const pagers = sensors.map((sensor) => new SensorPager(this.dataSource, machineId, sensor, sel, chunkRows));
      for (const p of pagers) await p.fill();
      for (;;) {
        // The earliest head; equal times in `sensors` order.
        let next: SensorPager | null = null;
        for (const p of pagers) if (p.head && (!next || p.head.time < next.head!.time)) next = p;
        if (!next) break;
        chunk.push(next.head!);
        await next.advance();
        if (chunk.length === chunkRows) await flush();
      }
    }
    if (chunk.length > 0) await flush();
    return total;
  }
}

/** One (machine, sensor)'s readings in a range, read in pages along the primary key. */
class SensorPager {
  private page: Reading[] = [];
  private at = 0;
  /** Time (ms) of the last row read; the next page starts after it. */
  private after: number | null = null;
  private exhausted = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly machineId: string,
    private readonly sensor: string,
    private readonly sel: DataSelection,
    private readonly pageRows: number,
  ) {}

  /** The current row, or null once the range is read. */
  get head(): Reading | null {
    return this.at < this.page.length ? this.page[this.at] : null;
  }

  async advance(): Promise<void> {
    this.at++;
    if (this.at === this.page.length) await this.fill();
  }

  /** Reads the next page (when the current one is used up and there may be more). */
  async fill(): Promise<void> {
    if (this.exhausted || this.at < this.page.length) return;
    const { text, values } = sensorPageQuery(this.machineId, this.sensor, this.sel, this.after, this.pageRows);
    const rows: { ms: string | number; value: number }[] = await this.dataSource.query(text, values);
    this.page = rows.map((r) => ({
      machineId: this.machineId,
      sensor: this.sensor,
      time: Number(r.ms),
      value: Number(r.value),
    }));
    this.at = 0;
    if (rows.length < this.pageRows) this.exhausted = true;
    if (rows.length > 0) this.after = this.page[rows.length - 1].time;
  }
}

/** The SQL of one page of a (machine, sensor)'s readings in the selection's range, after `afterMs` if given. */
export function sensorPageQuery(
  machineId: string,
  sensor: string,
  sel: DataSelection,
  afterMs: number | null,
  rows: number,
): { text: string; values: unknown[] } {
  return {
    text: `SELECT extract(epoch FROM time) * 1000 AS ms, value FROM readings
           WHERE machine_id = $1 AND sensor = $2 AND time >= $3 AND time < $4
             AND ($5::float8 IS NULL OR time > to_timestamp($5::float8 / 1000))
           ORDER BY time LIMIT $6`,
    values: [machineId, sensor, sel.from, sel.to, afterMs, rows],
  };
}
