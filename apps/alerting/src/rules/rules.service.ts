import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { AlertingConfig } from '@continuum/config';
import { AlertRulesRepository, type AlertRuleEntity } from '@continuum/persistence';
import type { AlertRule } from './alert-rule';
import { alertRuleInputSchema, type AlertRuleInput } from './alert-rule.schema';
import { DEFAULT_RULES } from './default-rules';

export const ALERTING_CONFIG = Symbol('ALERTING_CONFIG');

const toRule = (e: AlertRuleEntity): AlertRule => ({
  id: e.id,
  name: e.name,
  machineId: e.machineId,
  assetType: e.assetType,
  modelVersion: e.modelVersion,
  detector: e.detector,
  sensors: e.sensors,
  params: e.params ?? {},
  raiseAt: e.raiseAt,
  clearAt: e.clearAt,
  severity: e.severity,
  minDurationMs: e.minDurationMs,
  escalateAfterMs: e.escalateAfterMs,
  escalateTo: e.escalateTo,
  autoClearMs: e.autoClearMs,
  createWorkOrder: e.createWorkOrder,
  enabled: e.enabled,
});

/**
 * Alert rules: CRUD (validated; the api exposes it) and which rules apply to a machine. Rules are
 * cached and re-read every ALERTING_RULES_REFRESH_MS and after every change made here. When no
 * rule is stored the defaults apply (ALERTING_DEFAULT_RULES).
 */
@Injectable()
export class RulesService {
  private readonly logger = new Logger('AlertRules');
  private cache: { rules: AlertRule[]; at: number } | null = null;

  constructor(
    private readonly repo: AlertRulesRepository,
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
  ) {}

  list(): Promise<AlertRule[]> {
    return this.repo.list().then((rows) => rows.map(toRule));
  }

  async get(id: string): Promise<AlertRule> {
    const row = await this.repo.findById(id).catch(() => null);
    if (!row) throw new NotFoundException(`alert rule ${id} not found`);
    return toRule(row);
  }

  async create(input: AlertRuleInput): Promise<AlertRule> {
    const parsed = alertRuleInputSchema.safeParse(input);
    if (!parsed.success)
      throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    const rule = toRule(await this.repo.create(parsed.data));
    this.cache = null;
    return rule;
  }

  /** Replaces the given fields (validated as a whole rule). */
  async update(id: string, changes: Partial<AlertRuleInput>): Promise<AlertRule> {
    const current = await this.get(id);
    const { id: _id, ...rest } = current;
    const parsed = alertRuleInputSchema.safeParse({ ...rest, ...changes });
    if (!parsed.success)
      throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    const row = await this.repo.update(id, parsed.data);
    if (!row) throw new NotFoundException(`alert rule ${id} not found`);
    this.cache = null;
    return toRule(row);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id).catch(() => false))) throw new NotFoundException(`alert rule ${id} not found`);
    this.cache = null;
  }

  /**
   * Stores the built-in default rules when none is stored and they are in force, so that adding a rule
   * next does not silently drop them (stored rules replace the defaults). Returns the rules stored.
   */
  async storeDefaultsIfInForce(): Promise<AlertRule[]> {
    if (!this.config.defaultRules || (await this.repo.list()).length > 0) return [];
    const stored: AlertRule[] = [];
    for (const { id: _id, ...rule } of DEFAULT_RULES) stored.push(await this.create(rule));
    return stored;
  }

  /** Every enabled rule in force: the stored ones, or the defaults when none is stored. */
  async active(now = Date.now()): Promise<AlertRule[]> {
    if (!this.cache || now - this.cache.at >= this.config.rulesRefreshMs) {
      try {
        const stored = await this.list();
        this.cache = { rules: stored.length === 0 && this.config.defaultRules ? [...DEFAULT_RULES] : stored, at: now };
      } catch (err) {
        if (!this.cache) throw err;
        this.logger.warn(`cannot re-read alert rules, keeping the cached ones: ${(err as Error).message}`);
        this.cache.at = now;
      }
    }
    return this.cache.rules.filter((r) => r.enabled);
  }

  /**
   * The rules that apply to a machine: for each detector, the machine's own rules if it has any,
   * else its asset type's, else the rules for every machine (the most specific scope wins).
   */
  static applicable(rules: readonly AlertRule[], machine: { id: string; assetType: string | null }): AlertRule[] {
    const out: AlertRule[] = [];
    for (const detector of new Set(rules.map((r) => r.detector))) {
      const of = rules.filter((r) => r.detector === detector);
      const own = of.filter((r) => r.machineId === machine.id);
      const typed = of.filter((r) => r.machineId === null && r.assetType !== null && r.assetType === machine.assetType);
      const global = of.filter((r) => r.machineId === null && r.assetType === null);
      out.push(...(own.length ? own : typed.length ? typed : global));
    }
    return out;
  }

  /** Whether a rule's scope (its machine, its asset type, or every machine) takes in a machine. */
  static covers(rule: AlertRule, machine: { id: string; assetType: string | null }): boolean {
    return rule.machineId !== null
      ? rule.machineId === machine.id
      : rule.assetType === null || rule.assetType === machine.assetType;
  }
}
