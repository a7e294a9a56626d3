import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Move the account's security epoch on: every two-factor token, remembered-device cookie and login under
 * way that carries the old one stops working. `db` may be a transaction, so the move commits with the
 * change it stands for and that change's event.
 */
export async function bumpSecurityEpoch(db: Kysely<Database>, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set((eb) => ({ security_epoch: eb('security_epoch', '+', 1) }))
    .where('id', '=', userId)
    .execute();
}
