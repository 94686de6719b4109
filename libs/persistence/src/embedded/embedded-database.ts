import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { timescaledb } from '@electric-sql/pglite/timescaledb';

/**
 * Opens the embedded database: PGlite (PostgreSQL compiled to WebAssembly) with the TimescaleDB
 * extension, persisted in `dataDir` (or in memory for `memory://`).
 *
 * TimescaleDB's library is loaded explicitly: PGlite has no `shared_preload_libraries`, and until
 * the library is loaded in a session the Timescale-licensed features (compression, continuous
 * aggregates) refuse to run after a restart.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<PGlite> {
  const location = dataDir.startsWith('memory://') ? dataDir : resolve(dataDir);
  if (!location.startsWith('memory://')) mkdirSync(location, { recursive: true });
  const db = await PGlite.create(location, { extensions: { timescaledb } });
  await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; LOAD 'timescaledb';`);
  return db;
}
