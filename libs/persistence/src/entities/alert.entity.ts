import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type AlertSeverity = 'critical' | 'major' | 'minor' | 'warning';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved' | 'cleared';
export type AlertKind = 'divergence' | 'forecast' | 'threshold';

/** One state change of an alert: who did what, when. */
export interface AlertTransition {
  at: string;
  from: AlertStatus | null;
  to: AlertStatus;
  by: string;
  comment?: string;
}

/**
 * An alert with its lifecycle (open -> acknowledged -> resolved, or cleared by condition).
 * At most one unresolved alert per (machine, rule): the migration adds a partial unique index.
 */
@Entity({ name: 'alerts' })
@Index('alerts_machine_idx', ['machineId', 'raisedAt'])
export class AlertEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'machine_id', type: 'text' })
  machineId!: string;

  @Column({ name: 'plant_id', type: 'text' })
  plantId!: string;

  @Column({ name: 'rule_id', type: 'text', nullable: true })
  ruleId!: string | null;

  @Column({ type: 'text' })
  kind!: AlertKind;

  @Column({ type: 'text' })
  severity!: AlertSeverity;

  @Column({ type: 'text', default: 'open' })
  status!: AlertStatus;

  @Column({ type: 'text' })
  message!: string;

  /** How many times the condition triggered while this alert was unresolved. */
  @Column({ type: 'integer', default: 1 })
  count!: number;

  @Column({ type: 'double precision', nullable: true })
  peak!: number | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  details!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  history!: AlertTransition[];

  @Column({ name: 'raised_at', type: 'timestamptz' })
  raisedAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
