import type { AlertRule } from './alert-rule';
import { DEFAULT_REFERENCES } from './default-references';

const MIN = 60_000;

/** What the divergence-type rules (sudden faults, drift) do with their alerts. */
const DIVERGENCE_LIFECYCLE = {
  severity: 'major',
  minDurationMs: 0,
  escalateAfterMs: 30 * MIN,
  escalateTo: 'critical',
  autoClearMs: 10 * MIN,
  createWorkOrder: false,
  enabled: true,
} as const satisfies Partial<AlertRule>;

/**
 * The rules alerting applies when `alert_rules` is empty (and ALERTING_DEFAULT_RULES is true).
 * See docs/alerting.md for the reasoning behind each figure.
 */
export const DEFAULT_RULES: readonly AlertRule[] = [
  {
    id: 'default-divergence',
    name: 'Machine diverges from its twin',
    machineId: null,
    assetType: null,
    modelVersion: null,
    detector: 'residual-cusum',
    sensors: null,
    // Sudden faults on one sensor. k = 3 and a 60-minute hold: the shipped default twin models are off
    // by up to ~1.5-2 σ for hours on some sensors of healthy machines (test/pipeline.e2e-spec.ts); at
    // k 2.5 with a 30-minute hold this rule alerted 5 of 36 machines of a healthy fleet in 2.5 days
    // (docs/benchmarks.md, issue 11). Slow wear is the drift rules' job.
    params: { k: 3, leakPerHour: 2, clip: 8, cap: 30, holdMinutes: 60 },
    raiseAt: 12,
    clearAt: 3,
    ...DIVERGENCE_LIFECYCLE,
  },
  // Wear the filter absorbs sensor by sensor: the pattern of the residuals' hour-long averages against
  // that of healthy machines of the asset type (one rule per type: each has its own reference).
  ...Object.entries(DEFAULT_REFERENCES).map(([assetType, reference]): AlertRule => ({
    id: `default-drift-${assetType}`,
    name: `Residual pattern unlike healthy ${assetType}s`,
    machineId: null,
    assetType,
    // The references are the shipped default models' (whose messages carry this version).
    modelVersion: `default:${assetType}`,
    detector: 'residual-mewma',
    sensors: null,
    params: { ...reference, tauMinutes: 60, clip: 8, maxStepMinutes: 15, holdMinutes: 30 },
    raiseAt: 80,
    clearAt: 32,
    ...DIVERGENCE_LIFECYCLE,
  })),
  {
    id: 'default-anomaly',
    name: 'Twin anomaly score persistently high',
    machineId: null,
    assetType: null,
    modelVersion: null,
    detector: 'anomaly-cusum',
    sensors: null,
    params: { baseline: 1, scale: 1, k: 1.5, leakPerHour: 2, clip: 6, cap: 30, holdMinutes: 30 },
    raiseAt: 15,
    clearAt: 3,
    severity: 'minor',
    minDurationMs: 0,
    escalateAfterMs: null,
    escalateTo: null,
    autoClearMs: 10 * MIN,
    createWorkOrder: false,
    enabled: true,
  },
  {
    id: 'default-forecast',
    name: 'Predicted failure within the horizon',
    machineId: null,
    assetType: null,
    modelVersion: null,
    detector: 'forecast',
    sensors: null,
    params: { rulLimitMs: 7 * 24 * 60 * MIN },
    raiseAt: 0.5,
    clearAt: 0.3,
    severity: 'major',
    minDurationMs: 0,
    escalateAfterMs: 24 * 60 * MIN,
    escalateTo: 'critical',
    autoClearMs: 60 * MIN,
    createWorkOrder: true,
    enabled: true,
  },
];
