import { type Kysely, type MigrationProvider, type MigrationResultSet, Migrator, sql } from 'kysely';
import { isPostgres } from './dialect.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Bring the schema up to date. Idempotent, and safe when several instances start at once
 * (both found by the reliability suite, test/src/reliability/crash-safety.test.ts):
 * - PostgreSQL: Kysely's Migrator takes an advisory lock. It is told which schema it works in:
 *   without that, it decides whether its bookkeeping tables exist by looking at every schema of the
 *   database, so a `kysely_migration_lock` in any other schema (another app, another test run) made
 *   it skip creating ours and fail with `relation "kysely_migration_lock" does not exist`.
 * - SQLite: Kysely takes no lock, so two processes migrating a fresh file at once both ran 001 and
 *   one died with `table "users" already exists`. `BEGIN IMMEDIATE` takes the write lock first
 *   (the other instance waits up to busy_timeout), and the whole run commits or rolls back as one.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  let outcome: MigrationResultSet;
  if (isPostgres(db)) {
    const schema = (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
    // A search_path naming no schema that exists (DATABASE_URL's `?schema=` mistyped or not created yet):
    // PostgreSQL's own words, "no schema has been selected to create in", name neither the setting nor the fix.
    if (!schema)
      throw new Error(
        'the PostgreSQL schema DATABASE_URL names (?schema=) does not exist. The server creates its tables, not the schema: run CREATE SCHEMA first, or leave ?schema= out.',
      );
    outcome = await new Migrator({ db, provider, migrationTableSchema: schema }).migrateToLatest();
  } else {
    await sql`begin immediate`.execute(db);
    outcome = await new Migrator({ db, provider, disableTransactions: true }).migrateToLatest();
    const ok = outcome.error === undefined && !outcome.results?.some((result) => result.status === 'Error');
    await sql.raw(ok ? 'commit' : 'rollback').execute(db);
  }
  const { error, results } = outcome;
  const failed = results?.find((result) => result.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`Database migration${failed ? ` ${failed.migrationName}` : ''} failed: ${reason}`);
  }
}
