import type { AlertKind, AlertSeverity } from '@continuum/persistence';

/** Which test a rule runs on a machine's twin updates. */
export const DETECTORS = ['residual-cusum', 'residual-mewma', 'anomaly-cusum', 'forecast'] as const;
export type DetectorKind = (typeof DETECTORS)[number];

export const SEVERITIES: readonly AlertSeverity[] = ['warning', 'minor', 'major', 'critical'];

/** Orders severities: warning < minor < major < critical. */
export const severityRank = (s: AlertSeverity): number => SEVERITIES.indexOf(s);

/**
 * An alert rule: which detector watches which machines, and the lifecycle of the alerts it raises.
 * Stored in `alert_rules` (see {@link AlertRuleEntity}); the defaults in `default-rules.ts` apply
 * when none is stored.
 */
export interface AlertRule {
  id: string;
  name: string;
  /** Scope: one machine, every machine of an asset type, or (both null) every machine. */
  machineId: string | null;
  assetType: string | null;
  /**
   * Only twin messages of this model version are evaluated (null: any). A residual-mewma reference
   * belongs to the model whose residuals it was fitted on: after a new model is activated the rule
   * waits for its own reference instead of judging the new model's residuals by the old one's.
   */
  modelVersion: string | null;
  detector: DetectorKind;
  /** Sensors the detector watches; null: every sensor. */
  sensors: string[] | null;
  /** Detector parameters (see each detector), merged over its defaults. */
  params: Record<string, number>;
  /** Hysteresis on the detector's value: the condition starts at ≥ raiseAt and ends below clearAt. */
  raiseAt: number;
  clearAt: number;
  severity: AlertSeverity;
  /** The condition must hold this long before an alert is raised. */
  minDurationMs: number;
  /** Raise the severity to `escalateTo` when the condition still holds this long after raising. */
  escalateAfterMs: number | null;
  escalateTo: AlertSeverity | null;
  /** Clear the alert once the condition has ended and not recurred for this long. */
  autoClearMs: number;
  /** Predictive (forecast) rules: open a draft work order with the alert. */
  createWorkOrder: boolean;
  enabled: boolean;
}

/** The alert kind each detector raises. */
export const detectorKind = (detector: DetectorKind): AlertKind =>
  detector === 'forecast' ? 'forecast' : 'divergence';
