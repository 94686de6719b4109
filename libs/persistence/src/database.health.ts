import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Database } from './database';

/** `database: up` when `SELECT 1` answers within the timeout. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly db: Database,
  ) {}

  async check(key = 'database', timeoutMs = 2000) {
    const session = this.health.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.dataSource.query('SELECT 1'),
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
        ),
      ]);
      return session.up({ mode: this.db.capabilities.mode, timescaledb: this.db.capabilities.timescaledb });
    } catch (err) {
      return session.down({ message: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
