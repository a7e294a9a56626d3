import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Whether the account still has a second factor (an authentication app or a security key), in one
 * statement; null when there is no such account. Asked inside the transaction that removes a factor, after
 * its UPDATE of the user's row, so it sees what that removal left (and what a concurrent one committed).
 */
export async function secondFactorLeft(db: Kysely<Database>, userId: string): Promise<boolean | null> {
  const row = await db
    .selectFrom('users')
    .select((eb) => [
      'totp_secret_enc',
      eb
        .exists(eb.selectFrom('webauthn_credentials').select('webauthn_credentials.id').whereRef('webauthn_credentials.user_id', '=', 'users.id'))
        .as('has_key'),
    ])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (row === undefined) return null;
  return row.totp_secret_enc !== null || Boolean(row.has_key);
}
