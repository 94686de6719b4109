import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The checkpoint of one machine's twin: its latent state at `time`, restored after a restart. */
@Entity({ name: 'twin_states' })
export class TwinStateEntity {
  @PrimaryColumn({ name: 'machine_id', type: 'text' })
  machineId!: string;

  @Column({ name: 'model_id', type: 'uuid', nullable: true })
  modelId!: string | null;

  /** Time of the state (the last reading folded in). */
  @Column({ type: 'timestamptz' })
  time!: Date;

  /** Latent mean, variance and any solver state, as the twin service serialises them. */
  @Column({ type: 'jsonb' })
  state!: Record<string, unknown>;

  /** Last accepted solver step, for warm starts. */
  @Column({ name: 'step_size', type: 'double precision', nullable: true })
  stepSize!: number | null;

  @Column({ type: 'integer', default: 0 })
  updates!: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
