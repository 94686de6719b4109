import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DatabaseConfig } from '@continuum/config';
import { Database } from '../database';

/** A database made for one test file, and how to throw it away. */
export interface TestDatabase {
  mode: 'embedded' | 'external';
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const common = {
  migrationsRun: true,
  logQueries: false,
  readings: { compressAfterDays: 7, retentionDays: 0 },
  embeddedJobsIntervalMs: 60_000,
};

/**
 * The database modes a storage test runs in: embedded PGlite+TimescaleDB always, and external
 * PostgreSQL when `DATABASE_URL` is set (as .ci/run does). Use with `describe.each`.
 */
export function testDatabaseModes(): ('embedded' | 'external')[] {
  return process.env.DATABASE_URL ? ['embedded', 'external'] : ['embedded'];
}

/**
 * Creates an empty database of the given mode: a fresh PGlite data directory under the system
 * temp directory, or a new database named `continuum_test_<random>` on the `DATABASE_URL` server,
 * so that concurrent test files and runs never collide.
 */
export async function createTestDatabase(mode: 'embedded' | 'external'): Promise<TestDatabase> {
  if (mode === 'embedded') {
    const dataDir = mkdtempSync(join(tmpdir(), 'continuum-test-db-'));
    return {
      mode,
      config: { mode, dataDir, ...common },
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('external test databases need DATABASE_URL');
  const name = `continuum_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    mode,
    config: { mode, url: url.toString(), ...common },
    drop: () =>
      withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A test database created and opened (migrations run); `close()` closes the connection and drops it. */
export interface OpenTestDatabase extends TestDatabase {
  db: Database;
  close(): Promise<void>;
}

/** {@link createTestDatabase} and `Database.open` in one, for a spec's `beforeAll` (and `close` in `afterAll`). */
export async function openTestDatabase(mode: 'embedded' | 'external'): Promise<OpenTestDatabase> {
  const tdb = await createTestDatabase(mode);
  let db: Database;
  try {
    db = await Database.open(tdb.config);
  } catch (err) {
    await tdb.drop();
    throw err;
  }
  return {
    ...tdb,
    db,
    close: async () => {
      await db.close();
      await tdb.drop();
    },
  };
}
