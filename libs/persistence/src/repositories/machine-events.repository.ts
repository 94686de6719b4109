import type { DataSource, EntityManager } from 'typeorm';
import type { MachineEventEntity } from '../entities';

export interface MachineEvent {
  machineId: string;
  plantId: string;
  kind: MachineEventEntity['kind'];
  /** Epoch milliseconds. */
  time: number;
  detail?: Record<string, unknown>;
}

/** Births, deaths and sequence gaps of machines; idempotent on (machine, kind, time). */
export class MachineEventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores events, skipping any already stored; returns how many were new. */
  async insertMany(events: readonly MachineEvent[], manager: EntityManager = this.dataSource.manager): Promise<number> {
    if (events.length === 0) return 0;
    const rows: { n: number }[] = await manager.query(
      `WITH inserted AS (
         INSERT INTO machine_events (time, machine_id, plant_id, kind, detail)
         SELECT to_timestamp(e.time / 1000.0), e.machine_id, e.plant_id, e.kind, coalesce(e.detail, '{}')
         FROM jsonb_to_recordset($1::jsonb) AS e(time float8, machine_id text, plant_id text, kind text, detail jsonb)
         ON CONFLICT DO NOTHING
         RETURNING 1
       ) SELECT count(*)::int AS n FROM inserted`,
      [
        JSON.stringify(
          events.map((e) => ({
            time: e.time,
            machine_id: e.machineId,
            plant_id: e.plantId,
            kind: e.kind,
            detail: e.detail ?? {},
          })),
        ),
      ],
    );
    return rows[0].n;
  }

  /** A machine's events (or every machine's), newest first. */
  async list(
    filter: { machineId?: string; kind?: MachineEvent['kind']; limit?: number } = {},
  ): Promise<MachineEvent[]> {
    const rows: { time: Date; machine_id: string; plant_id: string; kind: MachineEvent['kind']; detail: object }[] =
      await this.dataSource.query(
        `SELECT time, machine_id, plant_id, kind, detail FROM machine_events
         WHERE ($1::text IS NULL OR machine_id = $1) AND ($2::text IS NULL OR kind = $2)
         ORDER BY time DESC, id DESC LIMIT $3`,
        [filter.machineId ?? null, filter.kind ?? null, Math.min(filter.limit ?? 100, 1000)],
      );
    return rows.map((r) => ({
      time: new Date(r.time).getTime(),
      machineId: r.machine_id,
      plantId: r.plant_id,
      kind: r.kind,
      detail: r.detail as Record<string, unknown>,
    }));
  }
}
