import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@continuum/config';
import { ApiKeysRepository } from '@continuum/persistence';
import type { Principal } from './principal';

const CACHE_MS = 30_000;

/**
 * Resolves bearer tokens to principals (cached briefly, so a revoked key stops working within
 * 30 s) and makes sure an admin key exists: CONTINUUM_ADMIN_TOKEN's, or one generated at first
 * start and printed once.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const token = this.config.api.adminToken;
    if (token) {
      if (!(await this.keys.findActiveByToken(token))) {
        await this.keys.create({ name: 'admin (CONTINUUM_ADMIN_TOKEN)', role: 'admin', token });
        this.logger.log('admin API key from CONTINUUM_ADMIN_TOKEN registered');
      }
    } else if ((await this.keys.countActive('admin')) === 0) {
      const created = await this.keys.create({ name: 'first admin', role: 'admin' });
      // Printed once: only its hash is stored.
      this.logger.warn(`created the first admin API key; store it now, it is not shown again: ${created.token}`);
    }
  }

  async authenticate(token: string): Promise<Principal | null> {
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.principal;
    const key = await this.keys.findActiveByToken(token);
    const principal = key ? { keyId: key.id, name: key.name, role: key.role, plantIds: key.plantIds } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, until: now + CACHE_MS });
    if (key) void this.keys.touch(key.id).catch(() => undefined);
    return principal;
  }

  /** Forget cached tokens (after a key is revoked through this process). */
  invalidate(): void {
    this.cache.clear();
  }
}
