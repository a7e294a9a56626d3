import type { Kysely } from 'kysely';

/**
 * A login's security-key challenge names the login it was issued for (a digest of its two-factor token), so
 * an answer to one login's options completes only that login (QA h5: it completed any pending login of the
 * account). Registration challenges, and the few login challenges open during the upgrade, have none: those
 * logins ask for new options once ("This security-key request has expired…"), the safe direction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_challenges').addColumn('login_digest', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_challenges').dropColumn('login_digest').execute();
}
