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
   * `chunkRows` (keyset pagination on the primary-key order), calling `onChunk` for each.
   */
  async forEachChunk(
    sel: DataSelection,
    chunkRows: number,
    onChunk: (rows: Reading[]) => void | Promise<void>,
  ): Promise<number> {
    let total = 0;
    for (const machineId of sel.machineIds) {
      let after: { time: Date; sensor: string } | null = null;
      for (;;) {
        const rows: { time: Date; sensor: string; value: number }[] = await this.dataSource.query(
          `SELECT time, sensor, value FROM readings
           WHERE machine_id = $1 AND time >= $2 AND time < $3
             AND ($4::timestamptz IS NULL OR (time, sensor) > ($4::timestamptz, $5::text))
           ORDER BY time, sensor LIMIT $6`,
          [machineId, sel.from, sel.to, after?.time ?? null, after?.sensor ?? '', chunkRows],
        );
        if (rows.length === 0) break;
        total += rows.length;
        await onChunk(
          rows.map((r) => ({ machineId, sensor: r.sensor, time: new Date(r.time).getTime(), value: Number(r.value) })),
        );
        const last = rows[rows.length - 1];
        after = { time: new Date(last.time), sensor: last.sensor };
        if (rows.length < chunkRows) break;
      }
    }
    return total;
  }
}
