import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { AlertingConfig } from '@continuum/config';
import type { TwinMessage } from '@continuum/contracts';
import {
  AlertsRepository,
  MachinesRepository,
  UNRESOLVED,
  type AlertEntity,
  type AlertStatus,
} from '@continuum/persistence';
import { createDetector, detectorSpecKey, type Detector, type DetectorOutput } from '../detectors/detectors';
import { AlertTracker, type LifecycleAction } from '../lifecycle/alert-tracker';
import { AlertingMetrics } from '../metrics/alerting.metrics';
import { AlertNotifier } from '../notifications/alert-notifier';
import { detectorKind, type AlertRule } from '../rules/alert-rule';
import { ALERTING_CONFIG, RulesService } from '../rules/rules.service';

/** The time source of alerting; tests pass a fake one. */
export const ALERTING_CLOCK = Symbol('ALERTING_CLOCK');
export interface Clock {
  now(): number;
}

const SYSTEM = 'alerting';

interface Watch {
  machineId: string;
  plantId: string;
  rule: AlertRule;
  detector: Detector;
  tracker: AlertTracker;
  last: DetectorOutput | null;
  lastTouchAt: number;
}

/**
 * Decides when to alert. For every twin update it runs the rules that apply to the machine
 * (detector -> lifecycle tracker), then persists what the trackers decided (one unresolved alert
 * per machine and rule, merged on retrigger) and announces every state change. A timer runs the
 * time-driven transitions (escalation, auto-clear). Operators acknowledge, resolve and comment
 * through the methods below (the api exposes them). Updates of one machine are handled in order.
 */
@Injectable()
export class AlertsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Alerting');
  private readonly watches = new Map<string, Watch>();
  private readonly machines = new Map<string, { assetType: string | null; at: number }>();
  private readonly queues = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly machinesRepo: MachinesRepository,
    private readonly rules: RulesService,
    private readonly notifier: AlertNotifier,
    private readonly metrics: AlertingMetrics,
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(ALERTING_CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.adoptUnresolved();
    if (this.config.tickMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.config.tickMs);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.queues.values(), this.ticking]);
    await this.notifier.settle();
  }

  /** Handles one twin update (in order per machine); never throws. */
  handleTwinUpdate(message: TwinMessage): Promise<void> {
    const previous = this.queues.get(message.machineId) ?? Promise.resolve();
    const next = previous
      .then(() => this.process(message))
      .catch((err: Error) => {
        this.metrics.errors.inc({ stage: 'twin-update' });
        this.logger.error(`twin update of ${message.machineId} failed: ${err.message}`);
      });
    this.queues.set(message.machineId, next);
    void next.finally(() => {
      if (this.queues.get(message.machineId) === next) this.queues.delete(message.machineId);
    });
    return next;
  }

  /** Time-driven transitions of every watched (machine, rule); the timer calls it. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(async () => {
      const now = this.clock.now();
      for (const watch of [...this.watches.values()]) {
        const actions = watch.tracker.tick(now);
        if (!actions.length) continue;
        await this.enqueueFor(watch.machineId, () => this.apply(watch, actions));
      }
    });
    return this.ticking.catch((err: Error) => {
      this.metrics.errors.inc({ stage: 'tick' });
      this.logger.error(`alerting tick failed: ${err.message}`);
    });
  }

  // ---- operator actions (the api exposes these) ----

  list(filter: { machineId?: string; plantId?: string; statuses?: AlertStatus[]; limit?: number } = {}) {
    return this.alerts.list(filter);
  }

  async get(id: string): Promise<AlertEntity> {
    const alert = await this.alerts.findById(id).catch(() => null);
    if (!alert) throw new NotFoundException(`alert ${id} not found`);
    return alert;
  }

  acknowledge(id: string, by: string, comment?: string): Promise<AlertEntity> {
    return this.operatorTransition(id, ['open'], 'acknowledged', by, comment);
  }

  async resolve(id: string, by: string, comment?: string): Promise<AlertEntity> {
    const alert = await this.operatorTransition(id, UNRESOLVED, 'resolved', by, comment);
    this.metrics.cleared.inc({ severity: alert.severity, kind: alert.kind, how: 'resolved' });
    const watch = this.watches.get(key(alert.machineId, alert.ruleId ?? ''));
    if (watch?.tracker.alert?.id === alert.id) watch.tracker.forget();
    return alert;
  }

  /** Adds a comment to the alert's history (status unchanged). */
  async comment(id: string, by: string, comment: string): Promise<AlertEntity> {
    const current = await this.get(id);
    const alert = await this.alerts.transition(id, {
      from: [current.status],
      to: current.status,
      by,
      at: new Date(this.clock.now()),
      comment,
    });
    if (!alert) throw new ConflictException(`alert ${id} changed meanwhile; try again`);
    return alert;
  }

  // ---- internals ----

  private async operatorTransition(
    id: string,
    from: readonly AlertStatus[],
    to: AlertStatus,
    by: string,
    comment?: string,
  ): Promise<AlertEntity> {
    const alert = await this.alerts.transition(id, { from, to, by, at: new Date(this.clock.now()), comment });
    if (!alert) {
      const current = await this.get(id);
      throw new ConflictException(`alert ${id} is ${current.status}; cannot move it to ${to}`);
    }
    this.notifier.alertChanged(alert, to);
    return alert;
  }

  private enqueueFor(machineId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(machineId) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    this.queues.set(machineId, settled);
    void settled.finally(() => {
      if (this.queues.get(machineId) === settled) this.queues.delete(machineId);
    });
    return next;
  }

  private async process(message: TwinMessage): Promise<void> {
    const rules = RulesService.applicable(await this.rules.active(this.clock.now()), {
      id: message.machineId,
      assetType: await this.assetType(message.machineId),
    });
    const started = process.hrtime.bigint();
    const now = this.clock.now();
    const decided: [Watch, LifecycleAction[]][] = [];
    for (const rule of rules) {
      const watch = this.watch(message, rule);
      const out = watch.detector.update(message);
      if (!out) continue;
      watch.last = out;
      const actions = watch.tracker.observe(out.value, now);
      if (actions.length) decided.push([watch, actions]);
    }
    this.metrics.detectorSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    for (const [watch, actions] of decided) await this.apply(watch, actions);
  }

  private watch(message: TwinMessage, rule: AlertRule): Watch {
    const k = key(message.machineId, rule.id);
    let watch = this.watches.get(k);
    // An edited rule whose detector would behave differently (detector, params, sensors, levels)
    // starts a fresh detector; the tracker (condition, unresolved alert) is kept.
    if (!watch || detectorSpecKey(watch.rule) !== detectorSpecKey(rule)) {
      const tracker = watch?.tracker ?? new AlertTracker(rule);
      watch = {
        machineId: message.machineId,
        plantId: message.plantId,
        rule,
        detector: createDetector(rule),
        tracker,
        last: null,
        lastTouchAt: 0,
      };
      this.watches.set(k, watch);
    }
    watch.rule = rule;
    watch.plantId = message.plantId;
    watch.tracker.setPolicy(rule);
    return watch;
  }

  private async apply(watch: Watch, actions: LifecycleAction[]): Promise<void> {
    const { rule, tracker } = watch;
    const kind = detectorKind(rule.detector);
    for (const action of actions) {
      switch (action.type) {
        case 'raise':
        case 'retrigger': {
          const { alert, inserted } = await this.alerts
            .raiseOrMerge({
              machineId: watch.machineId,
              plantId: watch.plantId,
              ruleId: rule.id,
              kind,
              severity: tracker.alert?.severity ?? rule.severity,
              message: describe(rule, watch),
              value: action.value,
              details: {
                ruleName: rule.name,
                detector: rule.detector,
                sensor: watch.last?.sensor ?? null,
                ...watch.last?.detail,
              },
              at: new Date(action.at),
              by: SYSTEM,
            })
            .catch((err: Error) => {
              // Not stored: raise again at the next value instead of believing it raised (it was lost
              // for good after a database restart; test/faults).
              if (action.type === 'raise') tracker.raiseFailed();
              throw err;
            });
          tracker.adopt({ id: alert.id, severity: alert.severity, raisedAt: new Date(alert.raisedAt).getTime() });
          watch.lastTouchAt = action.at;
          if (inserted) {
            this.metrics.raised.inc({ severity: alert.severity, kind });
            const withOrder = await this.maybeCreateWorkOrder(watch, alert);
            this.notifier.alertChanged(withOrder, 'raised');
          }
          break;
        }
        case 'touch':
          if (tracker.alert?.id && action.at - watch.lastTouchAt >= this.config.touchIntervalMs) {
            watch.lastTouchAt = action.at;
            await this.alerts.touch(tracker.alert.id, new Date(action.at), action.value);
          }
          break;
        case 'escalate': {
          if (!tracker.alert?.id) break;
          const alert = await this.alerts.transition(tracker.alert.id, {
            from: UNRESOLVED,
            to: 'open',
            by: SYSTEM,
            at: new Date(action.at),
            severity: action.severity,
            comment: `escalated to ${action.severity}: the condition persisted`,
          });
          if (!alert) {
            tracker.forget();
            break;
          }
          this.metrics.escalated.inc({ severity: action.severity });
          this.notifier.alertChanged(alert, 'escalated');
          break;
        }
        case 'clear': {
          const id = tracker.alert?.id ?? (await this.unresolvedId(watch));
          if (!id) break;
          const alert = await this.alerts.transition(id, {
            from: UNRESOLVED,
            to: 'cleared',
            by: SYSTEM,
            at: new Date(action.at),
            comment: `condition ended and did not recur for ${Math.round(rule.autoClearMs / 1000)} s`,
          });
          if (alert) {
            this.metrics.cleared.inc({ severity: alert.severity, kind, how: 'condition' });
            this.notifier.alertChanged(alert, 'cleared');
          }
          break;
        }
      }
    }
    if (tracker.idle && !watch.last) this.watches.delete(key(watch.machineId, rule.id));
  }

  private async unresolvedId(watch: Watch): Promise<string | null> {
    const [alert] = await this.alerts.list({ machineId: watch.machineId, statuses: [...UNRESOLVED], limit: 1000 });
    return alert && alert.ruleId === watch.rule.id ? alert.id : null;
  }

  /** A predictive alert opens a draft work order due by now + RUL p10 (ALERTING_WORK_ORDERS). */
  private async maybeCreateWorkOrder(watch: Watch, alert: AlertEntity): Promise<AlertEntity> {
    if (!this.config.workOrders || !watch.rule.createWorkOrder || watch.rule.detector !== 'forecast') return alert;
    try {
      const rul = (watch.last?.detail.rulMs ?? null) as { p10: number; p50: number; p90: number } | null;
      const now = this.clock.now();
      const dueBy = rul ? new Date(now + Math.max(0, rul.p10)) : null;
      const order = await this.alerts.createDraftWorkOrder({
        machineId: alert.machineId,
        title: `Inspect ${alert.machineId}: ${watch.rule.name}`,
        description: `${alert.message}\nProposed by alert ${alert.id}.`,
        priority: alert.severity === 'critical' ? 'urgent' : alert.severity === 'major' ? 'high' : 'medium',
        dueBy,
        alertId: alert.id,
      });
      await this.alerts.addDetails(alert.id, { workOrderId: order.id });
      return { ...alert, details: { ...alert.details, workOrderId: order.id } };
    } catch (err) {
      this.metrics.errors.inc({ stage: 'work-order' });
      this.logger.warn(`cannot create a draft work order for alert ${alert.id}: ${(err as Error).message}`);
      return alert;
    }
  }

  private async assetType(machineId: string): Promise<string | null> {
    const cached = this.machines.get(machineId);
    const now = this.clock.now();
    if (cached && now - cached.at < this.config.rulesRefreshMs) return cached.assetType;
    const machine = await this.machinesRepo.findById(machineId).catch(() => null);
    const assetType = machine?.assetType ?? null;
    this.machines.set(machineId, { assetType, at: now });
    return assetType;
  }

  private async adoptUnresolved(): Promise<void> {
    const rows = await this.alerts.unresolved();
    const rules = await this.rules.active(this.clock.now());
    for (const alert of rows) {
      const rule = rules.find((r) => r.id === alert.ruleId);
      if (!rule) continue;
      const message = { machineId: alert.machineId, plantId: alert.plantId } as TwinMessage;
      const watch = this.watch(message, rule);
      watch.tracker.adopt({ id: alert.id, severity: alert.severity, raisedAt: new Date(alert.raisedAt).getTime() });
    }
    if (rows.length) this.logger.log(`adopted ${rows.length} unresolved alerts`);
  }
}

const key = (machineId: string, ruleId: string) => `${machineId}\u0000${ruleId}`;

function describe(rule: AlertRule, watch: Watch): string {
  const out = watch.last;
  const where = out?.sensor ? ` (${out.sensor})` : '';
  if (rule.detector === 'forecast') {
    const rul = out?.detail.rulMs as { p10: number; p50: number; p90: number } | null | undefined;
    const h = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
    return `${rule.name}${where}: probability ${(out?.value ?? 0).toFixed(2)}${
      rul ? `; RUL p10 ${h(rul.p10)}, p50 ${h(rul.p50)}, p90 ${h(rul.p90)}` : ''
    }`;
  }
  return `${rule.name}${where}: statistic ${(out?.value ?? 0).toFixed(1)} ≥ ${rule.raiseAt}`;
}
