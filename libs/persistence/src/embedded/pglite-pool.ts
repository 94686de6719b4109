import { EventEmitter } from 'node:events';
import type { PGlite, Results } from '@electric-sql/pglite';

/**
 * A `pg`-compatible driver module over one PGlite instance, for TypeORM's postgres driver
 * (`{ type: 'postgres', driver: pgliteDriver(db) }`).
 *
 * PGlite is a single connection. TypeORM expects a pool whose clients are isolated sessions, so
 * a transaction on one query runner must not see statements from another. This pool therefore
 * lends its one client exclusively: `connect()` waits until the previous borrower has released
 * it. Plain queries through `pool.query` wait for the lease as well.
 */
export function pgliteDriver(db: PGlite) {
  const lease = new Lease();

  class PGliteClient extends EventEmitter {
    async query(text: string | { text: string; values?: unknown[] }, values?: unknown[] | ((...a: unknown[]) => void)) {
      const sql = typeof text === 'string' ? text : text.text;
      const params = typeof text === 'string' ? (Array.isArray(values) ? values : undefined) : text.values;
      if (params && params.length > 0) return toPgResult(sql, await db.query(sql, params));
      // Parameterless text may hold several statements (migrations): exec runs them all and
      // TypeORM expects the result of the last one.
      const results = await db.exec(sql);
      return toPgResult(sql, results[results.length - 1] ?? { rows: [], fields: [] });
    }
  }

  class PGlitePool extends EventEmitter {
    private readonly client = new PGliteClient();
    private ended = false;

    connect(callback?: (err: Error | null, client?: PGliteClient, release?: (err?: unknown) => void) => void) {
      const acquired = this.ended
        ? Promise.reject(new Error('the embedded database pool has been closed'))
        : lease.acquire().then((release) => ({ client: this.client, release }));
      if (!callback) return acquired.then(({ client, release }) => Object.assign(client, { release }));
      acquired.then(
        ({ client, release }) => callback(null, client, release),
        (err: Error) => callback(err),
      );
      return undefined;
    }

    async query(text: string, values?: unknown[]) {
      const release = await lease.acquire();
      try {
        return await this.client.query(text, values);
      } finally {
        release();
      }
    }

    end(callback?: (err?: Error | null) => void) {
      // The PGlite instance belongs to whoever opened it (see EmbeddedDatabase); closing the
      // pool only stops lending.
      this.ended = true;
      callback?.(null);
      return Promise.resolve();
    }
  }

  return { Pool: PGlitePool, defaults: {} };
}

/** Shapes a PGlite result like node-postgres's (`command` is the statement's leading keyword). */
function toPgResult(sql: string, result: Results<unknown> & { affectedRows?: number }) {
  const rows = result.rows as unknown[];
  const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
  return { rows, rowCount: result.affectedRows ?? rows.length, fields: result.fields, command };
}

/** A FIFO mutex: `acquire()` resolves with a release function once every earlier holder released. */
class Lease {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const previous = this.tail;
    this.tail = previous.then(() => released);
    let done = false;
    return previous.then(() => () => {
      if (!done) {
        done = true;
        release();
      }
    });
  }
}
