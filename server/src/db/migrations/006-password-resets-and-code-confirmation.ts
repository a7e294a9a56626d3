import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

interface Before {
  users: { id: string; recovery_codes_confirmed_at: number | null };
  recovery_codes: { user_id: string };
}

/**
 * Issue 13, items 5 and 6.
 *
 * `users.recovery_codes_confirmed_at`: when the user typed one code of the current set back (the burn
 * step); null while the set shown last is unconfirmed. Accounts that already hold codes predate the
 * burn step and can never see their set again, so they count as confirmed from now on (asking them to
 * confirm what cannot be shown would only nag them into a needless new set).
 *
 * `password_resets`: one row per reset link mailed. The link itself is signed and bound to the password
 * hash; the row makes it single use (a conditional UPDATE of `used_at` is the atomic burn) and lets a
 * reused link get its own answer rather than the "password changed since" one.
 */
export async function up(db: Kysely<Before>): Promise<void> {
  const bigint = isPostgres(db) ? 'bigint' : 'integer';
  await db.schema.alterTable('users').addColumn('recovery_codes_confirmed_at', bigint).execute();
  await db.updateTable('users').set({ recovery_codes_confirmed_at: Date.now() }).where('id', 'in', db.selectFrom('recovery_codes').select('user_id')).execute();
  await db.schema
    .createTable('password_resets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .addColumn('used_at', bigint)
    .execute();
  await db.schema.createIndex('password_resets_expires_at').on('password_resets').column('expires_at').execute();
  await db.schema.createIndex('password_resets_user_id').on('password_resets').column('user_id').execute();
}

export async function down(db: Kysely<Before>): Promise<void> {
  await db.schema.dropTable('password_resets').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('recovery_codes_confirmed_at').execute();
}
