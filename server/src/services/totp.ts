import type { ExpressionBuilder, Kysely } from 'kysely';
import { formatOtpauthUri, normalizeBase32Secret } from '@latchkey/shared';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { clearRecoveryCodesIfNoFactor } from './clear-recovery-codes-if-no-factor.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, NO_ORIGIN, type RequestOrigin } from './events.js';
import { open, seal } from './secret-box.js';
import { generateTotpSecret, matchTotpStep, normalizeTotpCode, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from './totp-code.js';

/** Why turning TOTP on is refused when it is already on (the route answers 409 with it). */
export const TOTP_ALREADY_ON = 'Your account already has an authentication app. To switch to a new one, remove the current one first.';

export type TotpCheck = 'ok' | 'invalid' | 'replayed' | 'not-enabled' | 'malformed';

export interface Totp {
  generateSecret(): string;
  /** The `otpauth://` URI the QR code carries (issuer = rpName, label = username). */
  provisioningUri(username: string, base32Secret: string): string;
  /**
   * Turn TOTP on with this secret, no code asked (admin CLI seed, tests). Records `method_added`.
   * Refused with a 409 {@link ServiceError} when TOTP is already on (here and in confirmAndEnable).
   */
  enable(userId: string, base32Secret: string, origin?: RequestOrigin): Promise<void>;
  /**
   * Provisioning: the code must match `base32Secret` before TOTP is turned on; that step is then spent.
   * `options.alsoInTransaction` runs inside the transaction that turns TOTP on (the route prepares the
   * first recovery codes there: TOTP is never on without them, whatever crashes when).
   */
  confirmAndEnable(
    userId: string,
    base32Secret: string,
    code: string,
    origin: RequestOrigin,
    options?: { alsoInTransaction?: (trx: Kysely<Database>) => Promise<void> },
  ): Promise<void>;
  /**
   * Check a login code against `user`, the account row this request already read (the two-factor token
   * check reads it, so the secret is not read twice). `ok` only if it matches within ±1 step AND its step
   * is later than the last accepted one — enforced by one conditional UPDATE, so two instances cannot both
   * accept a code (NIST SP 800-63B 5.1.4.2 / 5.1.5.2: an OTP is accepted once). `options.alsoInTransaction`
   * runs only when the code is accepted, in the transaction of that UPDATE: the login burns its two-factor
   * token there, so whoever later finds the step spent also finds whether that token is used up (no moment
   * in between in which the step is spent and the token still looks unused; see `Login.totpStep`).
   */
  verify(
    user: Pick<User, 'id' | 'totp_secret_enc'>,
    code: string,
    options?: { alsoInTransaction?: (trx: Kysely<Database>) => Promise<void> },
  ): Promise<TotpCheck>;
  /**
   * Turn TOTP off; when it was the last second factor, the recovery codes go in the same transaction —
   * only with `lastFactorConfirmed`, else nothing changes and `LastFactorUnconfirmed` is thrown (clear-recovery-codes-if-no-factor.ts).
   * False when TOTP was already off.
   */
  disable(userId: string, origin: RequestOrigin, options: { lastFactorConfirmed: boolean }): Promise<boolean>;
}

/**
 * The `users` columns that turn TOTP off, with the security-epoch bump that ends remembered devices and
 * pending two-factor links (ASVS V3.3.3): for removing TOTP and for an administrator's 2FA reset.
 */
export function totpOffColumns(eb: ExpressionBuilder<Database, 'users'>) {
  return {
    totp_secret_enc: null,
    totp_last_step: null,
    totp_enabled_at: null,
    security_epoch: eb('security_epoch', '+', 1),
  };
}

export function createTotp(db: Kysely<Database>, key: Buffer, events: Events, issuer: string, now: Clock): Totp {
  // The user id as associated data: a ciphertext moved to another user's row will not decrypt.
  const aad = (userId: string) => `totp:${userId}`;

  const store = async (
    userId: string,
    base32Secret: string,
    lastStep: number | null,
    origin: RequestOrigin,
    alsoInTransaction?: (trx: Kysely<Database>) => Promise<void>,
  ) => {
    const secret = normalizeBase32Secret(base32Secret);
    await inTransaction(db, async (trx) => {
      const updated = await trx
        .updateTable('users')
        .set((eb) => ({
          totp_secret_enc: seal(key, secret, aad(userId)),
          totp_last_step: lastStep,
          totp_enabled_at: now(),
          security_epoch: eb('security_epoch', '+', 1),
        }))
        .where('id', '=', userId)
        // Only while TOTP is off: the route's "already has one" check runs earlier, so two sessions enabling
        // at once would both pass it and the second would silently replace the first's secret (issue 14 point 7).
        .where('totp_secret_enc', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) {
        const exists = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
        if (!exists) throw new ServiceError('No such account.', 404);
        throw new ServiceError(TOTP_ALREADY_ON, 409);
      }
      await alsoInTransaction?.(trx);
      // The event and its mail notice commit with the change they report.
      await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.methodAdded, origin, details: { method: 'totp' } });
    });
  };

  return {
    generateSecret: generateTotpSecret,

    provisioningUri: (username, base32Secret) =>
      formatOtpauthUri({ issuer: issuer, label: username, secret: base32Secret, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS }),

    enable: (userId, base32Secret, origin = NO_ORIGIN) => store(userId, base32Secret, null, origin),

    async confirmAndEnable(userId, base32Secret, code, origin, options = {}) {
      const normalized = normalizeTotpCode(code);
      if (normalized === null) throw new ServiceError('Enter the 6-digit code your app shows.', 400, 'totp_value');
      const step = matchTotpStep(base32Secret, normalized, now());
      if (step === null) {
        throw new ServiceError('That code does not match. Check your device’s clock and enter the current code.', 400, 'totp_value');
      }
      await store(userId, base32Secret, step, origin, options.alsoInTransaction);
    },

    async verify(user, code, options = {}) {
      const normalized = normalizeTotpCode(code);
      if (normalized === null) return 'malformed';
      const secretEnc = user.totp_secret_enc;
      if (!secretEnc) return 'not-enabled';
      const step = matchTotpStep(open(key, secretEnc, aad(user.id)), normalized, now());
      if (step === null) return 'invalid';
      // Atomic replay guard: only a step later than the last accepted one may win, and only while the
      // secret the code was checked against is still the stored one (TOTP not removed or replaced since).
      const spend = async (executor: Kysely<Database>) => {
        const updated = await executor
          .updateTable('users')
          .set({ totp_last_step: step })
          .where('id', '=', user.id)
          .where('totp_secret_enc', '=', secretEnc)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
          .executeTakeFirst();
        return Number(updated.numUpdatedRows) === 1;
      };
      const { alsoInTransaction } = options;
      // Without a follow-up the UPDATE is one statement of its own (the login path always has one).
      if (!alsoInTransaction) return (await spend(db)) ? 'ok' : 'replayed';
      // The step stays spent whatever the follow-up finds (it does not throw for a token already used):
      // a code that matched is used, whether or not it still logs anyone in.
      return inTransaction(db, async (trx) => {
        if (!(await spend(trx))) return 'replayed';
        await alsoInTransaction(trx);
        return 'ok';
      });
    },

    disable: (userId, origin, options) =>
      inTransaction(db, async (trx) => {
        const updated = await trx.updateTable('users').set(totpOffColumns).where('id', '=', userId).where('totp_secret_enc', 'is not', null).executeTakeFirst();
        const changed = Number(updated.numUpdatedRows) === 1;
        if (changed) {
          // The UPDATE above holds the user's row: the "was it the last factor" decision is made after it.
          const off = await clearRecoveryCodesIfNoFactor(trx, userId, options);
          // `twoFactorOff`: the history says 2FA went off with it (and the recovery codes with it).
          await events
            .boundTo(trx)
            .record({ userId, tag: EVENT_TAGS.methodRemoved, origin, details: { method: 'totp', ...(off ? { twoFactorOff: true } : {}) } });
        }
        return changed;
      }),
  };
}
