import { ConflictException, ForbiddenException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InternalEvent } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import {
  AlertsRepository,
  UNRESOLVED,
  toAlertMessage,
  type AlertEntity,
  type AlertStatus,
} from '@continuum/persistence';
import { canSeePlant, type Principal } from '../auth/principal';
import type { Page } from '../common/pagination.dto';
import type { ListAlertsQuery } from './dto/alert.dto';

/**
 * Operators' side of the alert lifecycle: list, read (with history), acknowledge, resolve and
 * comment. Transitions are conditional statements in the repository, so an alert that alerting
 * cleared meanwhile answers 409; every change is announced on the bus (`AlertChanged`).
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger('Alerts');

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly bus: EventBus,
  ) {}

  async list(principal: Principal, q: ListAlertsQuery): Promise<Page<AlertEntity>> {
    if (q.plantId && !canSeePlant(principal, q.plantId)) forbid(q.plantId);
    const plantIds = q.plantId ? [q.plantId] : principal.plantIds;
    const { items, total } = await this.alerts.page(
      { machineId: q.machineId, plantIds, statuses: q.status },
      q.limit,
      q.offset,
    );
    return { items, total, limit: q.limit, offset: q.offset };
  }

  async get(principal: Principal, id: string): Promise<AlertEntity> {
    const alert = await this.alerts.findById(id);
    // Another plant's alert answers like a missing one (no probing of ids); the refusal is logged.
    if (alert && !canSeePlant(principal, alert.plantId))
      this.logger.warn(`key ${principal.keyId} refused alert ${id}: plant ${alert.plantId} is outside its plants`);
    if (!alert || !canSeePlant(principal, alert.plantId)) throw new NotFoundException(`alert ${id} does not exist`);
    return alert;
  }

  acknowledge(principal: Principal, id: string, comment?: string): Promise<AlertEntity> {
    return this.move(principal, id, ['open'], 'acknowledged', comment);
  }

  resolve(principal: Principal, id: string, comment?: string): Promise<AlertEntity> {
    return this.move(principal, id, UNRESOLVED, 'resolved', comment);
  }

  async comment(principal: Principal, id: string, comment: string): Promise<AlertEntity> {
    const current = await this.get(principal, id);
    return this.move(principal, id, [current.status], current.status, comment);
  }

  private async move(
    principal: Principal,
    id: string,
    from: readonly AlertStatus[],
    to: AlertStatus,
    comment?: string,
  ): Promise<AlertEntity> {
    const current = await this.get(principal, id);
    const by = `${principal.name} (${principal.keyId})`;
    const alert = await this.alerts.transition(id, { from, to, by, at: new Date(), comment });
    if (!alert)
      throw new ConflictException(
        current.status === to || !from.includes(current.status)
          ? `alert ${id} is ${current.status}; cannot move it to ${to}`
          : `alert ${id} changed meanwhile; try again`,
      );
    this.bus
      .emit(InternalEvent.AlertChanged, toAlertMessage(alert))
      .catch((err: Error) => this.logger.warn(`AlertChanged for ${id} not announced: ${err.message}`));
    return alert;
  }
}

function forbid(plantId: string): never {
  throw new ForbiddenException(`this API key has no access to plant ${plantId}`);
}
