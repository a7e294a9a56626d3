import type { Kysely } from 'kysely';

/**
 * What the database knows of the secret key it was written with: one keyed check value (never the key,
 * nothing a key can be found from), recorded by the first server start. A server or admin CLI started with
 * another LATCHKEY_SECRET_KEY is told so before it writes anything sealed under the wrong key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('key_check')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_check').ifExists().execute();
}
