import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type ModelStatus = 'candidate' | 'active' | 'retired';

/** A versioned twin model of an asset type: configuration, weights and how it was trained. */
@Entity({ name: 'models' })
@Index('models_asset_type_version_key', ['assetType', 'version'], { unique: true })
export class ModelEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'asset_type', type: 'text' })
  assetType!: string;

  @Column({ type: 'integer' })
  version!: number;

  /** latent-ode, neural-cde, ... */
  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text', default: 'candidate' })
  status!: ModelStatus;

  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  @Column({ type: 'bytea', nullable: true })
  weights!: Buffer | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  normalisation!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  metrics!: Record<string, unknown>;

  /** Machines and time range the model was trained on. */
  @Column({ name: 'training_data', type: 'jsonb', default: () => `'{}'` })
  trainingData!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  solver!: Record<string, unknown>;

  @Column({ name: 'training_job_id', type: 'uuid', nullable: true })
  trainingJobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'activated_at', type: 'timestamptz', nullable: true })
  activatedAt!: Date | null;
}
