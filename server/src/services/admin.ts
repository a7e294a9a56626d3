import type { Kysely } from 'kysely';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Accounts } from './accounts.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, NO_ORIGIN } from './events.js';
import type { RateLimits } from './rate-limits.js';
import type { TotpGuessBudget } from './totp-guess-budget.js';
import { totpOffColumns } from './totp.js';

export interface Admin {
  /**
   * The lock-out path: after an administrator has verified the person's identity out of band, remove
   * every second factor (TOTP, security keys, recovery codes), end all sessions, void remembered
   * devices and pending logins, and record who did it and why.
   */
  resetTwoFactor(username: string, input: { reason: string; actor: string }): Promise<User>;
}

export function createAdmin(db: Kysely<Database>, accounts: Accounts, events: Events, rateLimits: RateLimits, totpGuessBudget: TotpGuessBudget): Admin {
  return {
    async resetTwoFactor(username, { reason, actor }) {
      const user = await accounts.findByUsername(username);
      if (!user) throw await accounts.noSuchAccount(username);
      if (reason.trim().length < 3) throw new ServiceError('Give a reason (what identity check was done); it is recorded.', 400);
      await inTransaction(db, async (trx) => {
        await trx.updateTable('users').set(totpOffColumns).where('id', '=', user.id).execute();
        await trx.deleteFrom('webauthn_credentials').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('webauthn_challenges').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('login_tokens').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
        await events
          .boundTo(trx)
          .record({ userId: user.id, tag: EVENT_TAGS.adminTwoFactorReset, origin: NO_ORIGIN, details: { reason: reason.trim().slice(0, 500), actor } });
      });
      // The reset also lifts the second-factor locks, the year's TOTP budget included: the administrator
      // checked the person's identity out of band (NIST SP 800-63B 5.2.2 leaves unlocking to the operator).
      await rateLimits.resetAccount('second-factor', user.id);
      await totpGuessBudget.reset(user.id);
      return (await accounts.findById(user.id)) ?? user;
    },
  };
}
