import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * One row per wrong TOTP code, kept a year: the rolling guessing budget (services/totp-guess-budget.ts).
 * A log rather than a fixed-window counter because a fixed window lets an attacker spend two budgets
 * across a window boundary; counting rows newer than a year bounds every 365-day span exactly.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  const table = db.schema.createTable('totp_guesses');
  await (postgres
    ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
  )
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('guessed_at', postgres ? 'bigint' : 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('totp_guesses_user_time').on('totp_guesses').columns(['user_id', 'guessed_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('totp_guesses').ifExists().execute();
}
