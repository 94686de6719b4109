import type { AlertSeverity } from '@continuum/persistence';
import { severityRank, type AlertRule } from '../rules/alert-rule';

/** The lifecycle settings of a rule that the tracker applies. */
export type LifecyclePolicy = Pick<
  AlertRule,
  'raiseAt' | 'clearAt' | 'severity' | 'minDurationMs' | 'escalateAfterMs' | 'escalateTo' | 'autoClearMs'
>;

/** What the tracker decided; the service persists and announces it. */
export type LifecycleAction =
  /** Open a new alert (or merge into the unresolved one, if another process opened it). */
  | { type: 'raise'; severity: AlertSeverity; value: number; at: number }
  /** The condition began again while the alert is unresolved: count + 1, last seen, peak. */
  | { type: 'retrigger'; value: number; at: number }
  /** The condition still holds: last seen, peak. */
  | { type: 'touch'; value: number; at: number }
  | { type: 'escalate'; severity: AlertSeverity; at: number }
  /** The condition ended and has not recurred for the auto-clear time. */
  | { type: 'clear'; at: number };

/** An unresolved alert as the tracker knows it. */
export interface TrackedAlert {
  id: string | null;
  severity: AlertSeverity;
  raisedAt: number;
}

/**
 * The lifecycle of one (machine, rule): hysteresis, minimum duration, escalation and auto-clear.
 * Pure and clocked from outside (every method takes `now`), so that it is tested with a fake clock.
 *
 * - The condition starts when the value reaches `raiseAt` and ends only when it falls below
 *   `clearAt` (< raiseAt): a value wandering between the two changes nothing (no flapping).
 * - An alert is raised once the condition has held for `minDurationMs` (checked at each value).
 * - While the alert is unresolved, each new start of the condition is a retrigger (count + 1).
 * - Escalation: the condition still holds `escalateAfterMs` after raising -> severity `escalateTo`.
 * - Auto-clear: the condition ended and did not start again for `autoClearMs`.
 * - An operator's resolve forgets the alert; if the condition still holds, no new alert is raised
 *   until the condition has ended and started again.
 */
export class AlertTracker {
  private condition = false;
  /** When the condition started (while it holds) or ended (while it does not). */
  private since = 0;
  private suppressed = false;
  alert: TrackedAlert | null = null;

  constructor(private policy: LifecyclePolicy) {}

  /** Follows an edited rule; the current condition and alert are kept. */
  setPolicy(policy: LifecyclePolicy): void {
    this.policy = policy;
  }

  /** Folds in the detector's value at `now`. */
  observe(value: number, now: number): LifecycleAction[] {
    const actions: LifecycleAction[] = [];
    const { raiseAt, clearAt } = this.policy;
    if (!this.condition && value >= raiseAt) {
      this.condition = true;
      this.since = now;
      if (this.alert) actions.push({ type: 'retrigger', value, at: now });
    } else if (this.condition && value < clearAt) {
      this.condition = false;
      this.since = now;
      this.suppressed = false;
    } else if (this.condition && this.alert && value >= raiseAt) {
      actions.push({ type: 'touch', value, at: now });
    }
    if (this.condition && !this.alert && !this.suppressed && now - this.since >= this.policy.minDurationMs) {
      this.alert = { id: null, severity: this.policy.severity, raisedAt: now };
      actions.push({ type: 'raise', severity: this.policy.severity, value, at: now });
    }
    return [...actions, ...this.tick(now)];
  }

  /** Time-driven transitions (escalation, auto-clear), also when no value arrives. */
  tick(now: number): LifecycleAction[] {
    const alert = this.alert;
    if (!alert) return [];
    const { escalateAfterMs, escalateTo, autoClearMs } = this.policy;
    if (
      this.condition &&
      escalateAfterMs !== null &&
      escalateTo !== null &&
      severityRank(escalateTo) > severityRank(alert.severity) &&
      now - alert.raisedAt >= escalateAfterMs
    ) {
      alert.severity = escalateTo;
      return [{ type: 'escalate', severity: escalateTo, at: now }];
    }
    if (!this.condition && now - this.since >= autoClearMs) {
      this.alert = null;
      return [{ type: 'clear', at: now }];
    }
    return [];
  }

  /** An unresolved alert found in the database (after a restart, or opened by another process). */
  adopt(alert: TrackedAlert): void {
    this.alert = { ...alert };
  }

  /**
   * Storing the alert a `raise` asked for failed (the database was unreachable): forget the pending
   * alert without suppressing, so that the next value that still meets the condition raises it again.
   */
  raiseFailed(): void {
    if (this.alert?.id === null) this.alert = null;
  }

  /** An operator resolved the alert (or it disappeared): forget it, suppress while the condition holds. */
  forget(): void {
    this.alert = null;
    this.suppressed = this.condition;
  }

  /** Nothing to remember: no alert and no condition (the tracker can be dropped). */
  get idle(): boolean {
    return !this.alert && !this.condition;
  }
}
