/**
 * `npm run migration:run` / `npm run migration:revert`: applies or reverts migrations on the
 * configured database (DATABASE_URL, or the embedded one in DATABASE_DIR).
 */
import 'reflect-metadata';
import { loadConfig } from '@continuum/config';
import { Database } from './database';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert' && command !== 'show') {
    throw new Error(`usage: migrations <run|revert|show> (got ${command ?? 'nothing'})`);
  }
  const config = loadConfig();
  // No statement timeout here: migrations may take longer than DATABASE_QUERY_TIMEOUT_MS allows a query.
  const db = await Database.open({ ...config.database, migrationsRun: false, queryTimeoutMs: 0 });
  try {
    const ds = db.dataSource;
    if (command === 'run') {
      const applied = await ds.runMigrations({ transaction: 'each' });
      console.log(applied.length ? applied.map((m) => `applied ${m.name}`).join('\n') : 'no pending migrations');
    } else if (command === 'revert') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else {
      const pending = await ds.showMigrations();
      console.log(pending ? 'there are pending migrations' : 'all migrations applied');
    }
  } finally {
    await db.close();
  }
}

main(process.argv[2]).catch((err: Error) => {
  console.error(`migrations: ${err.message}`);
  process.exit(1);
});
