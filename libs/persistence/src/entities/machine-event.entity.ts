import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A birth, death or sequence gap of a machine, recorded by ingestion (Sparkplug B). */
@Entity({ name: 'machine_events' })
@Index('machine_events_machine_kind_time_key', ['machineId', 'kind', 'time'], { unique: true })
@Index('machine_events_time_idx', ['time'])
export class MachineEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz' })
  time!: Date;

  @Column({ name: 'machine_id', type: 'text' })
  machineId!: string;

  @Column({ name: 'plant_id', type: 'text' })
  plantId!: string;

  /** `birth`, `death` (the machine's data is stale until its next birth or data) or `seq-gap`. */
  @Column({ type: 'text' })
  kind!: 'birth' | 'death' | 'seq-gap';

  @Column({ type: 'jsonb', default: () => `'{}'` })
  detail!: Record<string, unknown>;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}
