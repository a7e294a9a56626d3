import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Run `work` in a transaction and keep it open — its row locks held, as another request's change in
 * progress — until `release()`, which commits it. Resolves once `work` has run, so a race test can start
 * the other side exactly then. SQLite has one connection: anything else queues behind the transaction.
 */
export async function holdTransaction(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<void>): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let ready!: () => void;
  const workDone = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const committed = db.transaction().execute(async (trx) => {
    await work(trx);
    ready();
    await held;
  });
  await Promise.race([workDone, committed]);
  return {
    release: async () => {
      release();
      await committed;
    },
  };
}

/**
 * Until the other side has reached the held transaction's lock (so the test orders the two for certain):
 * on PostgreSQL, until a statement of this database waits on a lock; on SQLite, a short pause (the other
 * side simply queues for the one connection).
 */
export async function untilSomeoneWaitsOnALock(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'sqlite') return new Promise((resolve) => setTimeout(resolve, 150));
  for (let tries = 0; tries < 200; tries++) {
    const waiting = await sql<{
      count: number;
    }>`select count(*)::int as count from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(db);
    if (waiting.rows[0]!.count > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('nothing ever waited on the held transaction’s locks');
}
