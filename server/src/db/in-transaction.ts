import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Run `work` in a database transaction — the caller's when `db` already is one. Services bound to a
 * transaction (see `Services.boundTo`) then nest: their own multi-statement writes join the caller's
 * transaction instead of failing to open a second one.
 */
export function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
