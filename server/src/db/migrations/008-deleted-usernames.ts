import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Usernames of deleted accounts. An account deletes itself with everything it owns, but its name is kept
 * here and never registered again: on a package index a maintainer's name is how others recognise their
 * work, and whoever took a freed name would be taken for them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bigint = isPostgres(db) ? 'bigint' : 'integer';
  await db.schema
    .createTable('deleted_usernames')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('deleted_at', bigint, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deleted_usernames').ifExists().execute();
}
