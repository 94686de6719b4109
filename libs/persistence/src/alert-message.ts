import type { AlertMessage } from '@continuum/contracts';
import type { AlertEntity } from './entities';

/** The contract message of a stored alert (`plants/{plantId}/alerts`, `AlertChanged`). */
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
