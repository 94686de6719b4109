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

    it('runs migrations without the statement timeout (a slow migration is not cancelled)', async () => {
      // Another session holds the migrations table locked for 1.5 s, three times the timeout: the
      // runner's first query waits for it. Bounded by the 500 ms timeout, the open would fail.
      const runner = db.dataSource.createQueryRunner();
      await runner.startTransaction();
      await runner.query(`SET LOCAL statement_timeout = 0`);
      await runner.query(`LOCK TABLE migrations IN ACCESS EXCLUSIVE MODE`);
      const released = new Promise<void>((resolve) =>
        setTimeout(() => void runner.commitTransaction().then(() => runner.release().then(resolve)), 1500),
      );
      const started = Date.now();
      const again = await Database.open({ ...tdb.config, queryTimeoutMs: 500, migrationsRun: true }).finally(
        () => released,
      );
      try {
        // It waited for the lock (the runner reads the migrations table first) and then succeeded.
        expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
        // The services' connections keep the timeout.
        const [row] = await again.dataSource.query(`SELECT current_setting('statement_timeout') AS t`);
        expect(row.t).toBe('500ms');
      } finally {
        await again.close();
      }
    }, 30_000);
  });
