import { In, type DataSource, type Repository } from 'typeorm';
import { AlertEntity, WorkOrderEntity, type AlertKind, type AlertSeverity, type AlertStatus } from '../entities';

/** A condition that raises an alert, or merges into the unresolved one of its (machine, rule). */
export interface AlertOccurrence {
  machineId: string;
  plantId: string;
  ruleId: string;
  kind: AlertKind;
  severity: AlertSeverity;
  message: string;
  value: number;
  details: Record<string, unknown>;
  at: Date;
  by: string;
}

export const UNRESOLVED: readonly AlertStatus[] = ['open', 'acknowledged'];

/**
 * Alerts and their lifecycle. Every change is one conditional statement, so that two processes
 * (alerting deciding, the api acknowledging) never overwrite each other: the partial unique index
 * `alerts_one_unresolved_per_rule` keeps one unresolved alert per (machine, rule), and transitions
 * only apply from the statuses they allow. Each transition is appended to `history` (who, when).
 */
export class AlertsRepository {
  private readonly repo: Repository<AlertEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AlertEntity);
  }

  findById(id: string): Promise<AlertEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Alerts newest first, filtered by machine, plant and status. */
  list(
    filter: { machineId?: string; plantId?: string; statuses?: readonly AlertStatus[]; limit?: number } = {},
  ): Promise<AlertEntity[]> {
    return this.repo.find({
      where: {
        ...(filter.machineId ? { machineId: filter.machineId } : {}),
        ...(filter.plantId ? { plantId: filter.plantId } : {}),
        ...(filter.statuses?.length ? { status: In([...filter.statuses]) } : {}),
      },
      order: { raisedAt: 'DESC', id: 'ASC' },
      take: Math.min(filter.limit ?? 100, 1000),
    });
  }

  /** A page of alerts, newest first, and the total: by machine, plants (a key's scope) and statuses. */
  async page(
    filter: { machineId?: string; plantIds?: readonly string[] | null; statuses?: readonly AlertStatus[] },
    limit: number,
    offset: number,
  ): Promise<{ items: AlertEntity[]; total: number }> {
    const [items, total] = await this.repo.findAndCount({
      where: {
        ...(filter.machineId ? { machineId: filter.machineId } : {}),
        ...(filter.plantIds ? { plantId: In([...filter.plantIds]) } : {}),
        ...(filter.statuses?.length ? { status: In([...filter.statuses]) } : {}),
      },
      order: { raisedAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total };
  }

  /** Every open or acknowledged alert (alerting adopts them at start). */
  unresolved(): Promise<AlertEntity[]> {
    return this.repo.find({ where: { status: In([...UNRESOLVED]) }, order: { raisedAt: 'ASC' } });
  }

  /**
   * Opens an alert, or, when its (machine, rule) already has an unresolved one, merges into it:
   * count + 1, last seen, peak. `inserted` says which happened.
   */
  async raiseOrMerge(o: AlertOccurrence): Promise<{ alert: AlertEntity; inserted: boolean }> {
    const history = [{ at: o.at.toISOString(), from: null, to: 'open', by: o.by }];
    const rows: { id: string; inserted: boolean }[] = await this.dataSource.query(
      `INSERT INTO alerts AS a (machine_id, plant_id, rule_id, kind, severity, status, message, count, peak,
                                details, history, raised_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, 1, $7, $8::jsonb, $9::jsonb, $10, $10)
       ON CONFLICT (machine_id, rule_id) WHERE status IN ('open', 'acknowledged') DO UPDATE SET
         count = a.count + 1,
         last_seen_at = GREATEST(a.last_seen_at, EXCLUDED.last_seen_at),
         peak = GREATEST(a.peak, EXCLUDED.peak),
         updated_at = now()
       RETURNING a.id, (a.xmax = 0) AS inserted`,
      [
        o.machineId,
        o.plantId,
        o.ruleId,
        o.kind,
        o.severity,
        o.message,
        o.value,
        JSON.stringify(o.details),
        JSON.stringify(history),
        o.at,
      ],
    );
    return { alert: (await this.findById(rows[0].id))!, inserted: rows[0].inserted };
  }

  /** The condition still holds: last seen and peak. */
  async touch(id: string, at: Date, value: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE alerts SET last_seen_at = GREATEST(last_seen_at, $2), peak = GREATEST(peak, $3), updated_at = now()
       WHERE id = $1 AND status IN ('open', 'acknowledged')`,
      [id, at, value],
    );
  }

  /**
   * Moves an alert from one of `from` to `to`, recording who and when (and an optional comment);
   * `severity` changes it too (escalation). Returns the alert, or null when it does not exist or
   * its status is not one of `from`.
   */
  async transition(
    id: string,
    change: {
      from: readonly AlertStatus[];
      to: AlertStatus;
      by: string;
      at: Date;
      comment?: string;
      severity?: AlertSeverity;
    },
  ): Promise<AlertEntity | null> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE alerts SET
         history = history || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
           'at', $4::text, 'from', status, 'to', $3::text, 'by', $5::text, 'comment', $6::text))),
         status = $3, severity = coalesce($7, severity), updated_at = now()
       WHERE id = $1 AND status = ANY($2::text[])
       RETURNING id`,
      [
        id,
        [...change.from],
        change.to,
        change.at.toISOString(),
        change.by,
        change.comment ?? null,
        change.severity ?? null,
      ],
    );
    return rows.length ? this.findById(id) : null;
  }

  /** Merges keys into an alert's details (a work order's id, for instance). */
  async addDetails(id: string, details: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(`UPDATE alerts SET details = details || $2::jsonb WHERE id = $1`, [
      id,
      JSON.stringify(details),
    ]);
  }

  /** Opens a draft work order for an alert (maintenance proposed by a predictive alert). */
  async createDraftWorkOrder(order: {
    machineId: string;
    title: string;
    description: string;
    priority: WorkOrderEntity['priority'];
    dueBy: Date | null;
    alertId: string;
  }): Promise<WorkOrderEntity> {
    const repo = this.dataSource.getRepository(WorkOrderEntity);
    return repo.save(
      repo.create({
        machineId: order.machineId,
        title: order.title,
        description: order.description,
        priority: order.priority,
        status: 'draft',
        dueBy: order.dueBy,
        alertIds: [order.alertId],
      }),
    );
  }
}
