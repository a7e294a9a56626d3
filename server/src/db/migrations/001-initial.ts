import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Every table the server needs, WebAuthn included, so no other part needs a migration of its own.
 * Auto-increment ids differ by dialect (SQLite `integer primary key autoincrement`, PostgreSQL
 * identity); everything else is portable DDL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  const bigint = postgres ? 'bigint' : 'integer';
  type Builder = ReturnType<Kysely<unknown>['schema']['createTable']>;
  const withSerialId = (table: Builder): Builder =>
    postgres
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('password_changed_at', bigint, (c) => c.notNull())
    .addColumn('totp_secret_enc', 'text')
    .addColumn('totp_last_step', bigint)
    .addColumn('totp_enabled_at', bigint)
    .addColumn('security_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await withSerialId(db.schema.createTable('webauthn_credentials'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('sign_count', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text')
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('last_used_at', bigint)
    .addUniqueConstraint('webauthn_credentials_user_label', ['user_id', 'label'])
    .execute();

  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('challenge', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('ceremony', 'text', (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webauthn_challenges_expires').on('webauthn_challenges').column('expires_at').execute();

  await withSerialId(db.schema.createTable('recovery_codes'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('used_at', bigint)
    .execute();
  await db.schema.createIndex('recovery_codes_user_hash').on('recovery_codes').columns(['user_id', 'code_hash']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('last_seen_at', bigint, (c) => c.notNull())
    .addColumn('authenticated_at', bigint, (c) => c.notNull())
    .addColumn('pending_totp_secret_enc', 'text')
    .addColumn('pending_recovery_codes_enc', 'text')
    .addColumn('flash', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('login_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_tokens_expires').on('login_tokens').column('expires_at').execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', bigint, (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();

  await withSerialId(db.schema.createTable('events'))
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_user_created').on('events').columns(['user_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['events', 'rate_limits', 'login_tokens', 'sessions', 'recovery_codes', 'webauthn_challenges', 'webauthn_credentials', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
