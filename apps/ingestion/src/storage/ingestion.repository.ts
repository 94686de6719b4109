import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import {
  Database,
  DeadLettersRepository,
  MachineEventsRepository,
  MachinesRepository,
  type DeadLetter,
  type MachineEvent,
  type Reading,
} from '@continuum/persistence';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { SeenMachine } from '../decoding/decoded-message';
import { ReadingColumns, columnArrayLiterals, columnCopyBinary } from './reading-columns';

/** Everything one batch stores, in one transaction. */
export interface BatchWrite {
  readings: ReadingColumns;
  /** Machines to register, or whose sensor lists grow (and whose stale flag clears). */
  machines: SeenMachine[];
  deadLetters: DeadLetter[];
  events: MachineEvent[];
  /** Machines whose data went stale (after the machines above were seen). */
  stale: { machineId: string; since: number }[];
}

/** After a batch met rows already stored, this many batches skip the optimistic COPY (a redelivery burst). */
const BATCHES_AFTER_CONFLICT = 20;

/** The ingestion's I/O: one transaction per batch, and the registration lookup. */
@Injectable()
export class IngestionRepository {
  private readonly logger = new Logger('IngestionRepository');
  /** Batches left to write with the conflict-tolerant insert before trying COPY again. */
  private safeBatches = 0;
  /**
   * `copy`: optimistic binary COPY with PostgreSQL (see {@link insertColumns}); `insert`: the
   * conflict-tolerant insert for every batch (the "before" of `npm run bench:ingest`).
   */
  writeMethod: 'copy' | 'insert' = 'copy';

  constructor(
    private readonly db: Database,
    private readonly machines: MachinesRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly events: MachineEventsRepository,
  ) {}

  /** Writes a batch atomically; returns the number of readings actually inserted (the rest were duplicates). */
  async write(batch: BatchWrite): Promise<number> {
    return this.db.dataSource.transaction(async (manager) => {
      if (batch.machines.length > 0)
        await this.machines.ensureSeen(
          batch.machines.map((m) => ({ id: m.id, plantId: m.plantId, assetType: 'unknown', sensors: m.sensors })),
          manager,
        );
      const inserted = await this.insertColumns(batch.readings, manager);
      await this.deadLetters.insertMany(batch.deadLetters, manager);
      await this.events.insertMany(batch.events, manager);
      for (const s of batch.stale) await this.machines.markStale(s.machineId, new Date(s.since), manager);
      return inserted;
    });
  }

  /** {@link insertColumns} for reading objects. */
  insertReadings(readings: readonly Reading[], manager: EntityManager = this.db.dataSource.manager): Promise<number> {
    return this.insertColumns(ReadingColumns.from(readings), manager);
  }

  /**
   * Inserts readings, skipping those already stored (same machine, sensor and time); returns the
   * number of rows inserted. Rows go in primary-key order (grouped by machine and sensor, times
   * in arrival order): consecutive index insertions then land on the same B-tree pages.
   *
   * With PostgreSQL (external mode) a batch is first sent as a binary `COPY` inside a savepoint:
   * duplicates are rare (a QoS 1 redelivery after a reconnect or a crash), and COPY costs the
   * database about half the CPU per row of the conflict-tolerant insert (docs/benchmarks.md,
   * issue 7). If the COPY meets a row already stored (unique violation), the savepoint is rolled
   * back and the same rows go through the conflict-tolerant insert, which stores the new ones
   * only; the next {@link BATCHES_AFTER_CONFLICT} batches skip the COPY attempt. With PGlite
   * (embedded mode) every batch takes the conflict-tolerant insert.
   *
   * The conflict-tolerant insert: one `INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO
   * NOTHING`, with the four arrays written as PostgreSQL array literals in one pass and times as
   * epoch milliseconds (`to_timestamp(ms / 1000)`, exact to the millisecond for any time
   * ingestion accepts).
   */
  async insertColumns(columns: ReadingColumns, manager: EntityManager = this.db.dataSource.manager): Promise<number> {
    if (columns.length === 0) return 0;
    const rows = inKeyOrder(columns);
    if (this.writeMethod === 'copy' && this.db.capabilities.mode === 'external' && manager.queryRunner) {
      if (this.safeBatches > 0) this.safeBatches--;
      else {
        const copied = await this.tryCopy(rows, manager.queryRunner);
        if (copied !== null) return copied;
        this.safeBatches = BATCHES_AFTER_CONFLICT;
      }
    }
    const [times, machines, sensors, values] = columnArrayLiterals(rows);
    const result: { n: number }[] = await manager.query(
      `WITH inserted AS (
         INSERT INTO readings (time, machine_id, sensor, value)
         SELECT to_timestamp(t / 1000), m, s, v
         FROM unnest($1::float8[], $2::text[], $3::text[], $4::float8[]) AS u (t, m, s, v)
         ON CONFLICT DO NOTHING
         RETURNING 1
       ) SELECT count(*)::int AS n FROM inserted`,
      [times, machines, sensors, values],
    );
    return result[0].n;
  }

  /**
   * Binary COPY of the rows inside a savepoint of the caller's transaction: the row count, or
   * null when a row was already stored (the savepoint is then rolled back, the transaction goes on).
   */
  private async tryCopy(rows: ReadingColumns, runner: QueryRunner): Promise<number | null> {
    const client = (await runner.connect()) as PoolClient;
    await client.query('SAVEPOINT ingestion_copy');
    try {
      const copy = client.query(copyFrom('COPY readings (time, machine_id, sensor, value) FROM STDIN (FORMAT binary)'));
      await pipeline(Readable.from([columnCopyBinary(rows)]), copy);
      await client.query('RELEASE SAVEPOINT ingestion_copy');
      return rows.length;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await client.query('ROLLBACK TO SAVEPOINT ingestion_copy');
      this.logger.debug(`COPY met stored readings; inserting with ON CONFLICT DO NOTHING instead`);
      return null;
    }
  }

  /** Which of these machines are registered. */
  registered(ids: readonly string[]): Promise<Set<string>> {
    return this.machines.existing(ids);
  }
}

/**
 * The rows grouped by machine and then sensor (in order of first appearance), each group's rows
 * in their original order: a linear pass, no comparison sort.
 */
export function inKeyOrder(c: ReadingColumns): ReadingColumns {
  const groups = new Map<string, Map<string, number[]>>();
  const n = c.length;
  for (let i = 0; i < n; i++) {
    let bySensor = groups.get(c.machineIds[i]);
    if (bySensor === undefined) {
      bySensor = new Map();
      groups.set(c.machineIds[i], bySensor);
    }
    const rows = bySensor.get(c.sensors[i]);
    if (rows === undefined) bySensor.set(c.sensors[i], [i]);
    else rows.push(i);
  }
  const out = new ReadingColumns();
  for (const bySensor of groups.values())
    for (const rows of bySensor.values())
      for (const i of rows) out.push(c.machineIds[i], c.sensors[i], c.times[i], c.values[i]);
  return out;
}

const UNIQUE_VIOLATION = '23505';
