import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type TrainingJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A queued or finished training run; `progress` is rewritten every epoch. */
@Entity({ name: 'training_jobs' })
@Index('training_jobs_status_idx', ['status', 'createdAt'])
export class TrainingJobEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'asset_type', type: 'text' })
  assetType!: string;

  @Column({ name: 'machine_ids', type: 'jsonb', nullable: true })
  machineIds!: string[] | null;

  @Column({ name: 'range_from', type: 'timestamptz', nullable: true })
  rangeFrom!: Date | null;

  @Column({ name: 'range_to', type: 'timestamptz', nullable: true })
  rangeTo!: Date | null;

  @Column({ name: 'model_kind', type: 'text', default: 'latent-ode' })
  modelKind!: string;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  hyperparameters!: Record<string, unknown>;

  @Column({ type: 'text', default: 'dopri5' })
  solver!: string;

  @Column({ type: 'text', default: 'adjoint' })
  gradient!: string;

  @Column({ type: 'text', default: 'queued' })
  status!: TrainingJobStatus;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  progress!: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'model_id', type: 'uuid', nullable: true })
  modelId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** Written while running; a job whose heartbeat stops is resumed or failed by the next service. */
  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;
}
