import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Sessions and remembered devices listed on the account page, each endable on its own (issue 17).
 * Sessions gain the browser they were started in and the security-history event that started them.
 * Remembered devices were a signed cookie only, so they could be forgotten only all at once (by
 * bumping the security epoch); now each also has a row, and a cookie without its row no longer skips
 * the second factor. Cookies issued before this migration have no row: those browsers are asked for
 * a second factor once more (the safe direction).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bigint = isPostgres(db) ? 'bigint' : 'integer';
  // One column per statement: SQLite's ALTER TABLE adds only one at a time.
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('event_id', bigint).execute();

  await db.schema
    .createTable('remembered_devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('security_epoch', 'integer', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('event_id', bigint)
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('last_used_at', bigint, (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('remembered_devices_user').on('remembered_devices').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('remembered_devices').ifExists().execute();
  await db.schema.alterTable('sessions').dropColumn('event_id').execute();
  await db.schema.alterTable('sessions').dropColumn('user_agent').execute();
}
