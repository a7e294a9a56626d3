import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * E-mail: every address of an account (verified or not, one primary), the transactional outbox the
 * senders deliver from, and the per-account state that throttles repeated notices.
 *
 * Existing accounts get their one address as the primary, unverified: nothing they already have stops
 * working (the verified-address rule applies only to adding a first second factor), and the account
 * page asks them to verify it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  const bigint = postgres ? 'bigint' : 'integer';
  type Builder = ReturnType<Kysely<unknown>['schema']['createTable']>;
  const withSerialId = (table: Builder): Builder =>
    postgres
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await withSerialId(db.schema.createTable('user_emails'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified_at', bigint)
    .addColumn('verify_nonce', 'text')
    .addColumn('verify_sent_at', bigint)
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addUniqueConstraint('user_emails_user_address', ['user_id', 'email_key'])
    .execute();
  // One primary per account, and an address belongs to at most one account once verified.
  await db.schema.createIndex('user_emails_one_primary').unique().on('user_emails').column('user_id').where(sql.ref('is_primary'), '=', 1).execute();
  await db.schema
    .createIndex('user_emails_verified_address')
    .unique()
    .on('user_emails')
    .column('email_key')
    .where(sql.ref('verified_at'), 'is not', null)
    .execute();

  await sql`insert into user_emails (user_id, email, email_key, is_primary, verified_at, verify_nonce, verify_sent_at, created_at)
            select id, email, lower(trim(email)), 1, null, null, null, created_at from users`.execute(db);

  await withSerialId(db.schema.createTable('mail_outbox'))
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body_enc', 'text')
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('next_attempt_at', bigint, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_until', bigint)
    .addColumn('lease_token', 'text')
    .addColumn('sent_at', bigint)
    .addColumn('failed_at', bigint)
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('mail_outbox_pending').on('mail_outbox').column('next_attempt_at').where(sql.ref('sent_at'), 'is', null).execute();
  await db.schema.createIndex('mail_outbox_user').on('mail_outbox').columns(['user_id', 'kind']).execute();

  await db.schema
    .createTable('notice_throttle')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('last_sent_at', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('notice_throttle_pk', ['user_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notice_throttle').ifExists().execute();
  await db.schema.dropTable('mail_outbox').ifExists().execute();
  await db.schema.dropTable('user_emails').ifExists().execute();
}
