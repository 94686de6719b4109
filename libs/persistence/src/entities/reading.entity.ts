import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One sensor value at one time: the narrow `readings` table (a TimescaleDB hypertable where the
 * extension exists). The primary key (machine_id, sensor, time) makes storage idempotent.
 * Bulk reads and writes go through ReadingsRepository's SQL, not through this entity.
 */
@Entity({ name: 'readings' })
export class ReadingEntity {
  @PrimaryColumn({ name: 'machine_id', type: 'text' })
  machineId!: string;

  @PrimaryColumn({ type: 'text' })
  sensor!: string;

  @PrimaryColumn({ type: 'timestamptz' })
  time!: Date;

  @Column({ type: 'double precision' })
  value!: number;
}
