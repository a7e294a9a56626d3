import type { Kysely } from 'kysely';

/** Indexes for the periodic purge of expired rate-limit windows and sessions. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('rate_limits_window_start').on('rate_limits').column('window_start').execute();
  await db.schema.createIndex('sessions_last_seen').on('sessions').column('last_seen_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions_last_seen').ifExists().execute();
  await db.schema.dropIndex('rate_limits_window_start').ifExists().execute();
}
