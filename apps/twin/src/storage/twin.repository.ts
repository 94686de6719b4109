import { Injectable } from '@nestjs/common';
import {
  Database,
  TwinLeasesRepository,
  TwinPredictionsRepository,
  TwinStatesRepository,
  type TwinPredictionRow,
  type TwinStateEntity,
} from '@continuum/persistence';
import type { MachineInfo, TwinReading } from '../engine/twin-processor';
import type { ModelRow } from '@continuum/neural';

/** A machine's time span with new readings (from a ReadingsStored announcement). */
export interface ReadingSpan {
  machineId: string;
  from: number;
  to: number;
  receivedAtMs: number;
  /** Readings rows (sensor values) announced for it, when known. */
  count?: number;
}

/**
 * A span to fetch: each (machine, sensor) pair is one range scan of the primary key (machine_id,
 * sensor, time). Readings of other sensors are not fetched (the twin's model would refuse them).
 */
export type FetchSpan = ReadingSpan & { sensors: readonly string[] };

/**
 * The twin's fetch: rows of the spans, oldest first, at most `limit` (null where there is nothing to
 * fetch). Each (machine, sensor) pair is read by its own LATERAL subquery, ordered by time and
 * limited: a range scan of the primary key (machine_id, sensor, time). Joined to the whole table
 * instead, with `ORDER BY time LIMIT n`, the planner may walk the time index of every machine's
 * readings, or scan the table, filtering for the few machines asked for. It did in the soak once
 * autovacuum's ANALYZE had counted 27 million rows: 25 s of three cores per fetch (two parallel
 * workers), at which the whole cluster fell behind (docs/reliability.md, session 5).
 */
export function fetchReadingsQuery(
  spans: readonly FetchSpan[],
  limit: number,
): { text: string; values: unknown[] } | null {
  const pairs = spans.flatMap((s) => s.sensors.map((sensor) => ({ s, sensor })));
  if (pairs.length === 0) return null;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    text: `SELECT q.machine_id, (extract(epoch FROM r.time) * 1000)::float8 AS t, q.sensor, r.value
       FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS q(machine_id, sensor, t_from, t_to)
       CROSS JOIN LATERAL (
         SELECT r.time, r.value FROM readings r
         WHERE r.machine_id = q.machine_id AND r.sensor = q.sensor AND r.time >= q.t_from AND r.time <= q.t_to
         ORDER BY r.time LIMIT $5::bigint) r
       ORDER BY t, q.machine_id
       LIMIT $5::bigint`,
    values: [
      pairs.map((p) => p.s.machineId),
      pairs.map((p) => p.sensor),
      pairs.map((p) => iso(p.s.from)),
      pairs.map((p) => iso(p.s.to)),
      limit < Number.MAX_SAFE_INTEGER ? Math.floor(limit) : null,
    ],
  };
}

/** The twin's I/O: readings, machines, models, checkpoints, predictions and leases. */
@Injectable()
export class TwinRepository {
  readonly leases: TwinLeasesRepository;
  readonly predictions: TwinPredictionsRepository;
  readonly states: TwinStatesRepository;

  constructor(private readonly db: Database) {
    this.leases = new TwinLeasesRepository(db.dataSource);
    this.predictions = new TwinPredictionsRepository(db.dataSource);
    this.states = new TwinStatesRepository(db.dataSource);
  }

  /**
   * The readings of many machines' spans, one {@link TwinReading} per machine and time (the narrow
   * rows of one time gathered), oldest first per machine — at most about `maxRows` rows in one query.
   * Rows come oldest first across all the spans; when there are more than `maxRows`, the fetch stops
   * at the time of the first row beyond the cap (t): rows before t are returned, and `rest` holds each
   * span's remainder from t on for a later fetch, so no reading is skipped and no reading is cut in
   * half. If the cap is reached by rows of that one time alone, that whole time is fetched (in a
   * second query) and `rest` starts just after it.
   */
  async readings(
    spans: readonly FetchSpan[],
    maxRows = Number.MAX_SAFE_INTEGER,
  ): Promise<{ readings: TwinReading[]; rest: FetchSpan[] }> {
    if (spans.length === 0) return { readings: [], rest: [] };
    const limit = Math.max(1, Math.floor(maxRows));
    let rows = await this.rows(spans, limit + 1);
    let next: number | undefined;
    if (rows.length > limit) {
      // Times are whole milliseconds (floor: a sub-millisecond time is never left out of `rest`).
      const cut = Math.floor(Number(rows[limit].t));
      rows = rows.slice(0, limit).filter((r) => Number(r.t) < cut);
      next = cut;
      if (rows.length === 0) {
        // The whole fetch is one time of many machines: take that time entirely, continue after it.
        const at = spans.filter((s) => s.from <= cut && s.to >= cut).map((s) => ({ ...s, from: cut, to: cut }));
        rows = await this.rows(at, Number.MAX_SAFE_INTEGER);
        next = cut + 1;
      }
    }
    const rest: FetchSpan[] = [];
    if (next !== undefined) for (const s of spans) if (s.to >= next) rest.push({ ...s, from: Math.max(s.from, next) });
    const received = new Map(spans.map((s) => [s.machineId, s.receivedAtMs]));
    const byMachine = new Map<string, TwinReading[]>();
    for (const r of rows) {
      const t = Math.round(Number(r.t));
      let list = byMachine.get(r.machine_id);
      if (!list) byMachine.set(r.machine_id, (list = []));
      let last = list[list.length - 1];
      if (!last || last.timeMs !== t) {
        last = {
          machineId: r.machine_id,
          timeMs: t,
          values: {},
          receivedAtMs: received.get(r.machine_id) ?? Date.now(),
        };
        list.push(last);
      }
      last.values[r.sensor] = Number(r.value);
    }
    return { readings: [...byMachine.values()].flat(), rest };
  }

  /** Rows of the spans, oldest first, at most `limit` ({@link fetchReadingsQuery}). */
  private rows(
    spans: readonly FetchSpan[],
    limit: number,
  ): Promise<{ machine_id: string; t: string | number; sensor: string; value: number }[]> {
    const query = fetchReadingsQuery(spans, limit);
    return query ? this.db.dataSource.query(query.text, query.values) : Promise.resolve([]);
  }

  /** Machines by id, with their failure thresholds. */
  async machines(ids: readonly string[]): Promise<MachineInfo[]> {
    if (ids.length === 0) return [];
    const rows: {
      id: string;
      plant_id: string;
      asset_type: string;
      sensors: { name: string; failureThreshold?: { above?: number; below?: number } }[] | string;
    }[] = await this.db.dataSource.query(
      `SELECT id, plant_id, asset_type, sensors FROM machines WHERE id = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => {
      const sensors = typeof r.sensors === 'string' ? JSON.parse(r.sensors) : (r.sensors ?? []);
      const thresholds: MachineInfo['thresholds'] = {};
      for (const s of sensors as { name: string; failureThreshold?: { above?: number; below?: number } }[])
        if (s.failureThreshold) thresholds[s.name] = s.failureThreshold;
      return { id: r.id, plantId: r.plant_id, assetType: r.asset_type, thresholds };
    });
  }

  /** The active model of each asset type (id and asset type only: cheap to poll). */
  async activeModelIds(): Promise<{ id: string; assetType: string }[]> {
    const rows: { id: string; asset_type: string }[] = await this.db.dataSource.query(
      `SELECT DISTINCT ON (asset_type) id, asset_type FROM models WHERE status = 'active'
       ORDER BY asset_type, activated_at DESC NULLS LAST, version DESC`,
    );
    return rows.map((r) => ({ id: r.id, assetType: r.asset_type }));
  }

  /** A model row with its weights. */
  async model(id: string): Promise<ModelRow | null> {
    const rows: {
      id: string;
      asset_type: string;
      version: number;
      kind: string;
      config: Record<string, unknown>;
      weights: Buffer | null;
      normalisation: Record<string, unknown>;
    }[] = await this.db.dataSource.query(
      `SELECT id, asset_type, version, kind, config, weights, normalisation FROM models WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id,
      assetType: r.asset_type,
      version: Number(r.version),
      kind: r.kind,
      config: r.config,
      weights: r.weights ? Buffer.from(r.weights) : null,
      normalisation: r.normalisation ?? {},
    };
  }

  /** Ids of every machine with a checkpoint. */
  async checkpointedMachines(): Promise<string[]> {
    const rows: { machine_id: string }[] = await this.db.dataSource.query(`SELECT machine_id FROM twin_states`);
    return rows.map((r) => r.machine_id);
  }

  loadCheckpoints(ids: readonly string[]): Promise<TwinStateEntity[]> {
    return this.states.load(ids);
  }

  saveCheckpoints(states: readonly Omit<TwinStateEntity, 'updatedAt'>[]): Promise<void> {
    return this.states.saveMany(states);
  }

  deleteCheckpoint(machineId: string): Promise<boolean> {
    return this.states.reset(machineId);
  }

  savePredictions(rows: readonly TwinPredictionRow[]): Promise<void> {
    return this.predictions.insertMany(rows);
  }
}
