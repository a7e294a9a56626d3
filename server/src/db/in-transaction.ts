import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Attempts of one outermost transaction that PostgreSQL rolled back for a deadlock or a serialization failure. */
export const TRANSACTION_ATTEMPTS = 3;

/**
 * PostgreSQL rolled the whole transaction back to settle a conflict with a concurrent one: 40P01
 * (deadlock_detected: two transactions each waited for a row the other held) or 40001 (serialization_failure).
 * Nothing of it was saved, and PostgreSQL's documented remedy is to run the whole transaction again (manual
 * section 13.4, "Serialization Failure Handling", which names both codes). SQLite has neither: its transactions
 * take the write lock when they begin (IMMEDIATE), so they never wait for each other half-way.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Run `work` in a database transaction — the caller's when `db` already is one. Services bound to a
 * transaction (see `Services.boundTo`) then nest: their own multi-statement writes join the caller's
 * transaction instead of failing to open a second one.
 *
 * The outermost transaction (the one this call opens) runs again, up to {@link TRANSACTION_ATTEMPTS} times in
 * all, when PostgreSQL rolls it back for a deadlock or a serialization failure ({@link isTransientConflict}):
 * two requests of one account taking the same rows in different orders (deleting the account while a key is
 * removed) used to answer 500. A nested call never retries on its own: its statements are part of the caller's
 * transaction, which is already rolled back, and only the outermost can run the whole of it again.
 *
 * Running `work` again is safe because everything it does goes through `trx`, and all of that was rolled back:
 * the mail it queues is a row of the same transaction (the outbox), events are rows, and the callers' callbacks
 * (`alsoInTransaction`, `onCreated`, the recovery-code showing) write only through `trx` too. What callbacks keep
 * outside the database are local variables they assign on every run (a redirect target, a burn result), which the
 * last, committed run overwrites; nothing is sent, cached or counted in memory inside a callback (rate limits and
 * argon2 hashes are taken before the transaction opens). A retried request whose account was deleted meanwhile
 * meets the foreign key and is answered 409 "Account deleted", as a request that came a moment later would be.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransientConflict(error)) throw error;
      // A short random pause, growing with each attempt, so the two transactions that collided do not
      // start again in step and collide once more.
      await new Promise((resolve) => setTimeout(resolve, attempt * (5 + Math.random() * 20)));
    }
  }
}
