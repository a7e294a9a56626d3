import type { Kysely } from 'kysely';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, NO_ORIGIN, type RequestOrigin } from './events.js';
import { checkNewPassword } from './password-rule.js';
import type { Passwords } from './passwords.js';

/** Options for {@link PasswordChanges.setPassword}. */
export interface SetPasswordOptions {
  /** `change`: the owner, logged in, knew the current password. `reset`: through a mailed link. */
  reason: 'change' | 'reset';
  /** The session to keep (the one that changed the password); every other session of the user ends. */
  keepSessionId?: string | null;
  origin?: RequestOrigin;
  /**
   * The password hash the caller checked (the current password typed, or the one a reset link was made
   * for): the new password is set only if it is still the account's. Without it, a change whose check
   * passed just before a reset committed would overwrite the reset's password (QA: an attacker holding the
   * old password and a session, racing the owner's reset, kept a password they knew).
   */
  expectedPasswordHash?: string;
  /** More facts for the event (and so its notice): a reset's `sent_to`, the address its link went to. */
  details?: Record<string, unknown>;
  /** More writes that must commit with the new password or not at all (the used reset link). */
  alsoInTransaction?: (trx: Kysely<Database>, user: User) => Promise<void>;
}

export interface PasswordChanges {
  /**
   * Set `userId`'s password to `newPassword` under the one password rule, in one transaction: the new
   * hash, the security epoch bumped (every remembered device and pending login token dies), every
   * session but `keepSessionId` ended, the event recorded. Second factors are never touched: a reset
   * leaves 2FA on (the next login still asks for it). Returns how many sessions ended.
   */
  setPassword(userId: string, newPassword: string, options: SetPasswordOptions): Promise<{ sessionsEnded: number }>;
}

/** The password changed between the caller's check and this write (see {@link SetPasswordOptions.expectedPasswordHash}); nothing was written. */
export class PasswordChangedMeanwhile extends ServiceError {
  override name = 'PasswordChangedMeanwhile';
  constructor() {
    super(
      'Your password was changed meanwhile (another session or a reset link), so this change was not made. Log in with the current password.',
      409,
      'password',
    );
  }
}

/**
 * The event is recorded through the transaction (`events.boundTo`), so the event and the "password
 * changed / reset" notice it mails (services/mail/security-notices.ts) commit with the password.
 * `indexName` is the index's name (`config.rpName`), a word the password rule refuses.
 */
export function createPasswordChanges(db: Kysely<Database>, passwords: Passwords, now: Clock, events: Events, indexName: string): PasswordChanges {
  return {
    async setPassword(userId, newPassword, { reason, keepSessionId = null, origin = NO_ORIGIN, details = {}, expectedPasswordHash, alsoInTransaction }) {
      const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      if (!user) throw new ServiceError('This account no longer exists.', 404);
      // The one password rule for every form that sets a password (DESIGN.md section 3).
      const check = checkNewPassword(newPassword, { username: user.username, email: user.email, indexName });
      if (!check.ok) throw new ServiceError(check.message, 400, 'new_password');
      // Hashed before the transaction opens: argon2 takes tens of milliseconds, no lock should wait on it.
      const hash = await passwords.hash(newPassword);
      return inTransaction(db, async (trx) => {
        const time = now();
        let update = trx
          .updateTable('users')
          .set((eb) => ({ password_hash: hash, password_changed_at: time, security_epoch: eb('security_epoch', '+', 1) }))
          .where('id', '=', userId);
        if (expectedPasswordHash !== undefined) update = update.where('password_hash', '=', expectedPasswordHash);
        if (Number((await update.executeTakeFirst()).numUpdatedRows) !== 1) throw new PasswordChangedMeanwhile();
        // ASVS V3.3.3: after a password change the user can (here: does) end every other session.
        let ended = trx.deleteFrom('sessions').where('user_id', '=', userId);
        if (keepSessionId) ended = ended.where('id', '!=', keepSessionId);
        const sessionsEnded = Number((await ended.executeTakeFirst()).numDeletedRows);
        await events.boundTo(trx).record({
          userId,
          tag: reason === 'reset' ? EVENT_TAGS.passwordReset : EVENT_TAGS.passwordChanged,
          origin,
          details: { ...details, sessions_ended: sessionsEnded },
        });
        const updated = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
        await alsoInTransaction?.(trx, updated);
        return { sessionsEnded };
      });
    },
  };
}
