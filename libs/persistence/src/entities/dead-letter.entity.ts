import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A message that was refused, with the reason, kept so that nothing is dropped silently. */
@Entity({ name: 'dead_letters' })
@Index('dead_letters_received_idx', ['receivedAt'])
@Index('dead_letters_reason_idx', ['reason'])
export class DeadLetterEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  /** Where it came from (an MQTT topic, an HTTP route). */
  @Column({ type: 'text' })
  source!: string;

  /** Machine-readable reason, e.g. `not-json`, `non-finite-value`, `future-timestamp`. */
  @Column({ type: 'text' })
  reason!: string;

  /** Human-readable detail of what was wrong. */
  @Column({ type: 'text', default: '' })
  detail!: string;

  /** The payload, truncated to the configured size: UTF-8 text, or hex for binary. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'payload_encoding', type: 'text' })
  payloadEncoding!: 'utf8' | 'hex';

  @Column({ name: 'payload_bytes', type: 'integer' })
  payloadBytes!: number;
}
