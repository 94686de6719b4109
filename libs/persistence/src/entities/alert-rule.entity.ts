import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AlertSeverity } from './alert.entity';

export type AlertRuleDetector = 'residual-cusum' | 'residual-mewma' | 'anomaly-cusum' | 'forecast';

/**
 * An alert rule of apps/alerting: which detector watches which machines (one machine, an asset
 * type, or all), its thresholds with hysteresis (raise at `raiseAt`, clear below `clearAt`), the
 * severity, minimum duration, escalation and auto-clear of the alerts it raises.
 */
@Entity({ name: 'alert_rules' })
@Index('alert_rules_scope_idx', ['machineId', 'assetType'])
export class AlertRuleEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'machine_id', type: 'text', nullable: true })
  machineId!: string | null;

  @Column({ name: 'asset_type', type: 'text', nullable: true })
  assetType!: string | null;

  /** Scope: only twin messages of this model version (a drift reference belongs to one); null: any. */
  @Column({ name: 'model_version', type: 'text', nullable: true })
  modelVersion!: string | null;

  @Column({ type: 'text' })
  detector!: AlertRuleDetector;

  /** Sensors watched; null: all. */
  @Column({ type: 'jsonb', nullable: true })
  sensors!: string[] | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  params!: Record<string, number>;

  @Column({ name: 'raise_at', type: 'double precision' })
  raiseAt!: number;

  @Column({ name: 'clear_at', type: 'double precision' })
  clearAt!: number;

  @Column({ type: 'text' })
  severity!: AlertSeverity;

  @Column({ name: 'min_duration_ms', type: 'double precision', default: 0 })
  minDurationMs!: number;

  @Column({ name: 'escalate_after_ms', type: 'double precision', nullable: true })
  escalateAfterMs!: number | null;

  @Column({ name: 'escalate_to', type: 'text', nullable: true })
  escalateTo!: AlertSeverity | null;

  @Column({ name: 'auto_clear_ms', type: 'double precision', default: 600_000 })
  autoClearMs!: number;

  @Column({ name: 'create_work_order', type: 'boolean', default: false })
  createWorkOrder!: boolean;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
