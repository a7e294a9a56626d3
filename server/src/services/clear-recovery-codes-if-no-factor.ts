import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ServiceError } from './errors.js';
import { secondFactorLeft } from './second-factor-left.js';

/**
 * Thrown (and the removal rolled back) when a removal would take the last second factor without the
 * owner's confirmation. The routes check first, from a read made before the removal; two tabs removing
 * the two last factors at once would both pass that check (each sees the other's factor), so the rule
 * is decided again here, under the user's row lock. The `field` is the confirmation checkbox's.
 */
export class LastFactorUnconfirmed extends ServiceError {
  constructor() {
    super('This is now your last second factor: tick the box to confirm that two-factor authentication turns off.', 409, 'confirm');
  }
}

/**
 * Call inside the transaction that removes a second factor, after the removal's UPDATE of the user's
 * row (that row lock orders concurrent removals). When no factor is left, the recovery codes are
 * deleted in the same transaction: they stand in for a second factor that no longer exists, and turning
 * 2FA on again must start with a fresh set shown once (DESIGN §3: "removing a factor and the codes when
 * it was the last" in one transaction). Deciding here, not after commit, means two factors removed at
 * the same moment (TOTP in one tab, the last key in another) cannot both see the other still present
 * and leave 2FA off with the old codes valid; a crash between removal and clearing cannot either.
 * Unless `lastFactorConfirmed`, taking the last factor throws {@link LastFactorUnconfirmed} instead.
 * Returns whether codes were cleared (2FA is now off).
 */
export async function clearRecoveryCodesIfNoFactor(trx: Kysely<Database>, userId: string, options: { lastFactorConfirmed: boolean }): Promise<boolean> {
  // Another factor is left (or the account is gone): nothing to clear.
  if ((await secondFactorLeft(trx, userId)) !== false) return false;
  if (!options.lastFactorConfirmed) throw new LastFactorUnconfirmed();
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  return true;
}
