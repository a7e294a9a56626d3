import type { Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';

/**
 * Take the account's `users` row for the rest of `trx` before the change touches any row of its own: the order
 * deleting the account takes them in (its row, then the rest by the cascade). Two such changes of one account,
 * or one and the deletion, then run one after the other instead of each holding a row the other waits for
 * (PostgreSQL: "deadlock detected"). SQLite needs nothing: its transactions take the write lock when they begin
 * (db/immediate-sqlite-dialect.ts), so they never wait half-way.
 */
export async function lockAccountRow(trx: Kysely<Database>, userId: string): Promise<void> {
  if (!trx.isTransaction) throw new Error('lockAccountRow needs a transaction: a lock outside one ends with its statement');
  if (isPostgres(trx)) await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}
