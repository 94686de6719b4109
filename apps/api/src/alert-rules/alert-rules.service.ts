import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { referenceFromParams, restrictReference } from '@continuum/contracts';
import { AlertRulesRepository, type AlertRuleEntity, type AlertRuleInput } from '@continuum/persistence';
import type { CreateAlertRuleDto, UpdateAlertRuleDto } from './dto/alert-rule.dto';

const DEFAULTS = {
  machineId: null,
  assetType: null,
  modelVersion: null,
  sensors: null,
  params: {},
  minDurationMs: 0,
  escalateAfterMs: null,
  escalateTo: null,
  autoClearMs: 600_000,
  createWorkOrder: false,
  enabled: true,
} satisfies Partial<AlertRuleInput>;

/**
 * Alert rules CRUD over libs/persistence (apps/alerting re-reads rules every
 * ALERTING_RULES_REFRESH_MS). Field checks are the DTO's; the rules that span fields are here,
 * the same as alerting's own schema.
 */
@Injectable()
export class AlertRulesService {
  constructor(private readonly rules: AlertRulesRepository) {}

  list(): Promise<AlertRuleEntity[]> {
    return this.rules.list();
  }

  async get(id: string): Promise<AlertRuleEntity> {
    const rule = await this.rules.findById(id);
    if (!rule) throw new NotFoundException(`alert rule ${id} does not exist`);
    return rule;
  }

  create(dto: CreateAlertRuleDto): Promise<AlertRuleEntity> {
    const input: AlertRuleInput = { ...DEFAULTS, ...stripUndefined(dto) } as AlertRuleInput;
    check(input);
    return this.rules.create(input);
  }

  async update(id: string, dto: UpdateAlertRuleDto): Promise<AlertRuleEntity> {
    const { id: _id, createdAt: _c, updatedAt: _u, ...current } = await this.get(id);
    const changes = stripUndefined(dto) as Partial<AlertRuleInput>;
    check({ ...current, ...changes });
    const updated = await this.rules.update(id, changes);
    if (!updated) throw new NotFoundException(`alert rule ${id} does not exist`);
    return updated;
  }

  async remove(id: string): Promise<void> {
    if (!(await this.rules.delete(id))) throw new NotFoundException(`alert rule ${id} does not exist`);
  }
}

function check(r: AlertRuleInput): void {
  const errors: string[] = [];
  if (!(r.clearAt < r.raiseAt)) errors.push('clearAt must be below raiseAt (hysteresis)');
  if (r.machineId && r.assetType) errors.push('a rule applies to one machine or to an asset type, not both');
  if ((r.escalateAfterMs === null) !== (r.escalateTo === null))
    errors.push('escalateAfterMs and escalateTo go together');
  // An explicit null would replace the default {} and reach the NOT NULL column (a 500, found by the
  // security suite's random bodies).
  if (r.params === null || typeof r.params !== 'object' || Array.isArray(r.params))
    errors.push('params must be an object mapping names to numbers');
  else if (Object.values(r.params).some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    errors.push('params must map names to finite numbers');
  else if (r.detector === 'residual-mewma')
    try {
      // The detector's reference: complete and positive definite, and covering the rule's sensors.
      restrictReference(referenceFromParams(r.params), r.sensors);
    } catch (err) {
      errors.push((err as Error).message);
    }
  if (errors.length) throw new BadRequestException(errors);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
