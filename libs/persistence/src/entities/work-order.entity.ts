import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type WorkOrderStatus = 'draft' | 'open' | 'scheduled' | 'in-progress' | 'done' | 'cancelled';
export type WorkOrderPriority = 'low' | 'medium' | 'high' | 'urgent';

/** A maintenance task on a machine, possibly scheduled into a window for a crew. */
@Entity({ name: 'work_orders' })
@Index('work_orders_machine_idx', ['machineId'])
@Index('work_orders_status_idx', ['status'])
export class WorkOrderEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'machine_id', type: 'text' })
  machineId!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'text', default: 'medium' })
  priority!: WorkOrderPriority;

  @Column({ type: 'text', default: 'open' })
  status!: WorkOrderStatus;

  @Column({ name: 'due_by', type: 'timestamptz', nullable: true })
  dueBy!: Date | null;

  @Column({ name: 'window_start', type: 'timestamptz', nullable: true })
  windowStart!: Date | null;

  @Column({ name: 'window_end', type: 'timestamptz', nullable: true })
  windowEnd!: Date | null;

  @Column({ type: 'text', nullable: true })
  crew!: string | null;

  @Column({ name: 'estimated_minutes', type: 'integer', default: 60 })
  estimatedMinutes!: number;

  @Column({ name: 'alert_ids', type: 'jsonb', default: () => `'[]'` })
  alertIds!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
