import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A sensor of a machine: its unit and, where known, the values at which the machine fails. */
export interface SensorSpec {
  name: string;
  unit?: string;
  /** Failure when the value rises above `above` or falls below `below`. */
  failureThreshold?: { above?: number; below?: number };
}

@Entity({ name: 'machines' })
@Index('machines_plant_idx', ['plantId'])
@Index('machines_asset_type_idx', ['assetType'])
export class MachineEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'plant_id', type: 'text' })
  plantId!: string;

  @Column({ name: 'asset_type', type: 'text' })
  assetType!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  sensors!: SensorSpec[];

  @Column({ type: 'jsonb', default: () => `'{}'` })
  metadata!: Record<string, unknown>;

  /** Set when the device announced its death (Sparkplug NDEATH/DDEATH); cleared by its next data. */
  @Column({ name: 'stale_since', type: 'timestamptz', nullable: true })
  staleSince!: Date | null;

  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
