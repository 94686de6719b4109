import type { Database } from '../database';
import { openTestDatabase, testDatabaseModes, type OpenTestDatabase } from '../testing/test-database';
import { MachinesRepository } from './machines.repository';

/**
 * Two ingestion instances registering the same new machines at once (`ensureSeen` inside their
 * storage transactions) must wait for each other, not deadlock: each inserts the rows in id order.
 * PostgreSQL only: the embedded database has one connection, so no two transactions overlap there.
 */
for (const mode of testDatabaseModes().filter((m) => m === 'external'))
  describe(`MachinesRepository.ensureSeen, two transactions at once (${mode})`, () => {
    let tdb: OpenTestDatabase;
    let db: Database;

    beforeAll(async () => {
      tdb = await openTestDatabase(mode);
      db = tdb.db;
    }, 60_000);
    afterAll(async () => {
      await tdb?.close();
    });

    it('registering the same new machines in opposite orders does not deadlock', async () => {
      const repo = new MachinesRepository(db.dataSource);
      const seen = (id: string) => ({ id, plantId: 'plant-dl', assetType: 'unknown', sensors: ['temp'] });
      const [q1, q2] = [db.dataSource.createQueryRunner(), db.dataSource.createQueryRunner()];
      try {
        await q1.startTransaction();
        await q2.startTransaction();
        const [{ pid }] = await q2.query(`SELECT pg_backend_pid() AS pid`);
        // The first holds dl-a; the second registers [dl-b, dl-a] and must wait on dl-a...
        await repo.ensureSeen([seen('dl-a')], q1.manager);
        const second = repo.ensureSeen([seen('dl-b'), seen('dl-a')], q2.manager).then(
          () => null,
          (err: Error) => err,
        );
        for (let waited = 0; ; waited += 50) {
          const [row] = await db.dataSource.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
          if (row?.wait_event_type === 'Lock') break;
          if (waited > 10_000) throw new Error('the second transaction never waited on a row lock');
          await new Promise((r) => setTimeout(r, 50));
        }
        // ...holding nothing yet (rows in id order), so the first can register dl-b: no deadlock.
        await repo.ensureSeen([seen('dl-b')], q1.manager);
        await q1.commitTransaction();
        expect(await second).toBeNull();
        await q2.commitTransaction();
        expect([...(await repo.existing(['dl-a', 'dl-b']))].sort()).toEqual(['dl-a', 'dl-b']);
      } finally {
        for (const q of [q1, q2]) {
          if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
          await q.release();
        }
      }
    });
  });
