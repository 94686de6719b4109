import { Database } from './database';
import { createTestDatabase, testDatabaseModes, type TestDatabase } from './testing/test-database';

/** DATABASE_QUERY_TIMEOUT_MS on PostgreSQL: a statement running longer is cancelled; the pool goes on. */
for (const mode of testDatabaseModes().filter((m) => m === 'external'))
  describe(`query timeout (${mode})`, () => {
    let tdb: TestDatabase;
    let db: Database;

    beforeAll(async () => {
      tdb = await createTestDatabase(mode);
      db = await Database.open({ ...tdb.config, queryTimeoutMs: 500 });
    }, 60_000);
    afterAll(async () => {
      await db?.close();
      await tdb?.drop();
    });

    it('cancels a statement that runs longer than DATABASE_QUERY_TIMEOUT_MS, and the next query works', async () => {
      const started = Date.now();
      await expect(db.dataSource.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
      // Cancelled by the server at 500 ms (generous bound for a loaded machine, well under the 5 s sleep).
      expect(Date.now() - started).toBeLessThan(4000);
      const [row] = await db.dataSource.query(`SELECT current_setting('statement_timeout') AS t`);
      expect(row.t).toBe('500ms');
    });
  });
