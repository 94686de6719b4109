import type { AlertMessage } from '@continuum/contracts';
import type { AlertEntity } from '@continuum/persistence';

/** The contract message of an alert (`AlertChanged`), as apps/alerting builds it. */
export function toAlertMessage(a: AlertEntity): AlertMessage {
  return {
    id: a.id,
    plantId: a.plantId,
    machineId: a.machineId,
    ruleId: a.ruleId,
    kind: a.kind,
    severity: a.severity,
    status: a.status,
    message: a.message,
    raisedAt: new Date(a.raisedAt).getTime(),
    updatedAt: new Date(a.updatedAt).getTime(),
  };
}
