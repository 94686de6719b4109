import type { DataSource, EntityManager, Repository } from 'typeorm';
import { DeadLetterEntity } from '../entities';

export interface DeadLetter {
  source: string;
  reason: string;
  detail?: string;
  payload: Buffer | string;
  /** Size of the original payload when `payload` was already cut short; default its length. */
  payloadBytes?: number;
  receivedAt?: Date;
}

/** Refused messages, stored with their reason so that nothing is dropped silently. */
export class DeadLettersRepository {
  private readonly repo: Repository<DeadLetterEntity>;

  /** @param maxPayloadBytes payloads are truncated to this many bytes before storing. */
  constructor(
    dataSource: DataSource,
    private readonly maxPayloadBytes = 4096,
  ) {
    this.repo = dataSource.getRepository(DeadLetterEntity);
  }

  /** Stores refused messages (in `manager`'s transaction when given). */
  async insertMany(letters: readonly DeadLetter[], manager?: EntityManager): Promise<void> {
    if (letters.length === 0) return;
    const rows = letters.map((l) => this.toRow(l));
    if (manager) await manager.getRepository(DeadLetterEntity).insert(rows);
    else await this.repo.insert(rows);
  }

  list(filter: { reason?: string; limit?: number } = {}): Promise<DeadLetterEntity[]> {
    return this.repo.find({
      where: filter.reason ? { reason: filter.reason } : {},
      order: { id: 'ASC' },
      take: Math.min(filter.limit ?? 100, 1000),
    });
  }

  async countByReason(): Promise<Record<string, number>> {
    const rows: { reason: string; n: number }[] = await this.repo.query(
      `SELECT reason, count(*)::int AS n FROM dead_letters GROUP BY reason`,
    );
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  private toRow(letter: DeadLetter): Partial<DeadLetterEntity> {
    const bytes = typeof letter.payload === 'string' ? Buffer.from(letter.payload, 'utf8') : letter.payload;
    const kept = bytes.subarray(0, this.maxPayloadBytes);
    const text = isValidUtf8(kept) ? kept.toString('utf8') : null;
    // Postgres text cannot hold NUL; such payloads are kept as hex like any binary one.
    const utf8 = text !== null && !text.includes('\u0000');
    return {
      receivedAt: letter.receivedAt ?? new Date(),
      source: letter.source,
      reason: letter.reason,
      detail: (letter.detail ?? '').slice(0, 2000),
      payload: utf8 ? text! : kept.toString('hex'),
      payloadEncoding: utf8 ? 'utf8' : 'hex',
      payloadBytes: letter.payloadBytes ?? bytes.length,
    };
  }
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
