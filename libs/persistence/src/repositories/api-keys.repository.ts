import { createHash, randomBytes } from 'node:crypto';
import { IsNull, type DataSource, type Repository } from 'typeorm';
import { ApiKeyEntity, type Role } from '../entities';

/** SHA-256 of a token, hex. Tokens are 32 random bytes, so a fast hash is the right one here. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random bearer token: `ck_` and 43 base64url characters (256 bits). */
export function newToken(): string {
  return `ck_${randomBytes(32).toString('base64url')}`;
}

/** API keys, stored hashed; the plain token exists only in the return value of `create`. */
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  /** Creates a key; `token` may be given (e.g. CONTINUUM_ADMIN_TOKEN), else one is generated. */
  async create(key: {
    name: string;
    role: Role;
    plantIds?: string[] | null;
    token?: string;
  }): Promise<{ key: ApiKeyEntity; token: string }> {
    const token = key.token ?? newToken();
    const saved = await this.repo.save(
      this.repo.create({ name: key.name, role: key.role, plantIds: key.plantIds ?? null, tokenHash: hashToken(token) }),
    );
    return { key: saved, token };
  }

  /** The active key with this token, or null. */
  findActiveByToken(token: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ tokenHash: hashToken(token), revokedAt: IsNull() });
  }

  countActive(role?: Role): Promise<number> {
    return this.repo.countBy({ revokedAt: IsNull(), ...(role ? { role } : {}) });
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }

  async touch(id: string): Promise<void> {
    await this.repo.update({ id }, { lastUsedAt: new Date() });
  }
}
