import type { PGlite } from '@electric-sql/pglite';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '@continuum/config';
import { MIGRATIONS } from '../../../migrations';
import { openEmbeddedDatabase } from './embedded/embedded-database';
import { pgliteDriver } from './embedded/pglite-pool';
import { ENTITIES } from './entities';

/** What the connected database can do; the rest of the platform asks this, not the server. */
export interface DatabaseCapabilities {
  mode: 'embedded' | 'external';
  /** Version of the timescaledb extension, or null on plain PostgreSQL. */
  timescaledb: string | null;
  serverVersion: string;
}

/**
 * An open database: the TypeORM data source and, in embedded mode, the PGlite instance under it.
 * `open` connects (and migrates, when configured); `close` shuts down cleanly, which in embedded
 * mode flushes PGlite's data directory so nothing written is lost.
 */
export class Database {
  private constructor(
    readonly dataSource: DataSource,
    readonly capabilities: DatabaseCapabilities,
    private readonly embedded: PGlite | null,
  ) {}

  static async open(config: DatabaseConfig): Promise<Database> {
    const embedded = config.mode === 'embedded' ? await openEmbeddedDatabase(config.dataDir) : null;
    const dataSource = new DataSource(dataSourceOptions(config, embedded));
    try {
      await dataSource.initialize();
      if (config.migrationsRun) await migrate(config, dataSource);
      const capabilities = await detectCapabilities(dataSource, config.mode);
      return new Database(dataSource, capabilities, embedded);
    } catch (err) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      await embedded?.close().catch(() => undefined);
      throw err;
    }
  }

  /** Re-reads the capabilities (after migrating by hand, for instance). */
  async refreshCapabilities(): Promise<DatabaseCapabilities> {
    const fresh = await detectCapabilities(this.dataSource, this.capabilities.mode);
    Object.assign(this.capabilities, fresh);
    return this.capabilities;
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    if (this.embedded && !this.embedded.closed) await this.embedded.close();
  }
}

/**
 * Runs the pending migrations. On PostgreSQL they run on a connection of their own without
 * DATABASE_QUERY_TIMEOUT_MS: a schema change on a large table (an index, a hypertable conversion)
 * may rightly take longer than any query of the running services should, and a cancelled migration
 * would stop the service from starting.
 */
export async function migrate(config: DatabaseConfig, dataSource: DataSource): Promise<void> {
  if (config.mode !== 'external' || !((config.queryTimeoutMs ?? 0) > 0)) {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const unbounded = new DataSource(dataSourceOptions({ ...config, queryTimeoutMs: 0 }, null));
  await unbounded.initialize();
  try {
    await unbounded.runMigrations({ transaction: 'each' });
  } finally {
    await unbounded.destroy();
  }
}

/** TypeORM options for either mode. Schema changes come only from migrations, never `synchronize`. */
export function dataSourceOptions(config: DatabaseConfig, embedded: PGlite | null): DataSourceOptions {
  return {
    type: 'postgres',
    ...(config.mode === 'external' ? { url: config.url } : { driver: pgliteDriver(embedded!) }),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    logging: config.logQueries ? 'all' : ['error', 'warn'],
    ...(config.mode === 'external'
      ? { extra: { max: 10, connectionTimeoutMillis: 10_000, ...queryTimeouts(config) } }
      : {}),
  };
}

/**
 * node-postgres options bounding every query: `statement_timeout` (the server cancels a statement that
 * runs too long, releasing its locks; the connection stays usable) and TCP keep-alive (a connection
 * whose peer vanished errors out eventually instead of waiting for ever). node-postgres's own
 * `query_timeout` is not used: it rejects the query but leaves it running on the connection, which
 * goes back to the pool and makes the next query on it wait behind the stuck one. A query over a
 * stalled network is bounded by its caller (the twin's stage timeouts).
 */
function queryTimeouts(config: DatabaseConfig): { statement_timeout?: number; keepAlive: boolean } {
  const ms = config.queryTimeoutMs ?? 0;
  return ms > 0 ? { statement_timeout: ms, keepAlive: true } : { keepAlive: true };
}

async function detectCapabilities(
  dataSource: DataSource,
  mode: DatabaseCapabilities['mode'],
): Promise<DatabaseCapabilities> {
  const [row] = await dataSource.query(
    `SELECT current_setting('server_version') AS server_version,
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS timescaledb`,
  );
  return { mode, timescaledb: row.timescaledb ?? null, serverVersion: row.server_version };
}
