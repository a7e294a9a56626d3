import type { Kysely } from 'kysely';
import { generateRecoveryCodes, normalizeRecoveryCode } from '@latchkey/shared';
import { inTransaction } from '../db/in-transaction.js';
import type { Database } from '../db/schema.js';
import type { Clock } from './clock.js';
import { EVENT_TAGS, type Events, NO_ORIGIN, type RequestOrigin } from './events.js';
import { hmac } from './keys.js';

export type RecoveryCodeCheck = 'ok' | 'used' | 'invalid' | 'malformed';

export interface RecoveryCodes {
  /** A new set of 8; the previous set stops working in the same transaction. Shown once, stored hashed. */
  generate(userId: string, origin?: RequestOrigin): Promise<string[]>;
  /** Would this code work now? Reads only (the login flow checks, then uses T up, then burns the code). */
  check(userId: string, input: string): Promise<RecoveryCodeCheck>;
  /**
   * Burn a code: exactly one caller can use each code (conditional UPDATE on `used_at IS NULL`). `options.within`
   * burns it in that transaction (a login's: the code is used up only with the session it starts).
   */
  use(userId: string, input: string, origin?: RequestOrigin, options?: { within?: Kysely<Database> }): Promise<RecoveryCodeCheck>;
  /**
   * The burn step: one code of the set just shown, typed back, proves the set was saved. That code is
   * burned and the set marked confirmed, in one transaction. Records its own event (not "code used":
   * no login happened, and the used-code notice would alarm the owner for nothing).
   */
  confirm(userId: string, input: string, origin?: RequestOrigin): Promise<RecoveryCodeCheck>;
  remaining(userId: string): Promise<number>;
  /**
   * Does the current set still wait for the burn step? Not when it was confirmed (`confirmedAt`, the user's
   * `recovery_codes_confirmed_at`), when no code is left, nor when any code of it was used at a login.
   */
  awaitingConfirmation(userId: string, confirmedAt: number | null): Promise<boolean>;
  /** Delete every code (admin 2FA reset). */
  clear(userId: string): Promise<void>;
}

/**
 * Recovery codes are stored as HMAC-SHA256(key, userId ":" code), key derived from the secret key.
 * A slow password hash is unnecessary here: each code carries 64 random bits (not a human-chosen
 * secret), so an offline search is infeasible even without the key, and with a keyed hash a stolen
 * database alone does not even allow a search. Being fast also lets the burn be one indexed lookup.
 */
export function createRecoveryCodes(db: Kysely<Database>, key: Buffer, events: Events, now: Clock): RecoveryCodes {
  const hashOf = (userId: string, code: string) => hmac(key, `${userId}:${code}`);

  /** The atomic burn: only the caller whose UPDATE changes the row wins; anyone else learns "used" or "invalid". */
  const burn = async (executor: Kysely<Database>, userId: string, input: string): Promise<RecoveryCodeCheck> => {
    const code = normalizeRecoveryCode(input);
    if (code === null) return 'malformed';
    const codeHash = hashOf(userId, code);
    const burned = await executor
      .updateTable('recovery_codes')
      .set({ used_at: now() })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(burned.numUpdatedRows) === 1) return 'ok';
    const spent = await executor.selectFrom('recovery_codes').select('id').where('user_id', '=', userId).where('code_hash', '=', codeHash).executeTakeFirst();
    return spent ? 'used' : 'invalid';
  };

  return {
    async generate(userId, origin = NO_ORIGIN) {
      const codes = generateRecoveryCodes();
      const time = now();
      await inTransaction(db, async (trx) => {
        // A new set is unconfirmed until one of its codes is typed back (the burn step). The user's row
        // first, as every factor removal locks it first: the same order cannot deadlock with one.
        await trx.updateTable('users').set({ recovery_codes_confirmed_at: null }).where('id', '=', userId).execute();
        // Unused codes first, to count what the new set voids: the history says so only when something died.
        const unused = await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
        const voided = Number(unused.numDeletedRows);
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await trx
          .insertInto('recovery_codes')
          .values(codes.map((code) => ({ user_id: userId, code_hash: hashOf(userId, code), created_at: time, used_at: null })))
          .execute();
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.recoveryCodesGenerated, origin, details: { count: codes.length, voided } });
      });
      return codes;
    },

    async check(userId, input) {
      const code = normalizeRecoveryCode(input);
      if (code === null) return 'malformed';
      const row = await db
        .selectFrom('recovery_codes')
        .select('used_at')
        .where('user_id', '=', userId)
        .where('code_hash', '=', hashOf(userId, code))
        .executeTakeFirst();
      if (!row) return 'invalid';
      return row.used_at === null ? 'ok' : 'used';
    },

    async use(userId, input, origin = NO_ORIGIN, { within } = {}) {
      return inTransaction(within ?? db, async (trx) => {
        // The burn, its event and the notice (with the codes left) commit together.
        const result = await burn(trx, userId, input);
        if (result === 'ok') await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.recoveryCodeUsed, origin });
        return result;
      });
    },

    async confirm(userId, input, origin = NO_ORIGIN) {
      if (normalizeRecoveryCode(input) === null) return 'malformed';
      return inTransaction(db, async (trx) => {
        // The user's row before the code: the order every factor change, a new set and a login's session (which
        // burns its code after reading that row FOR SHARE) take their locks in. Burning first, then waiting for
        // the row a login holds while that login waits for this code, was a deadlock on PostgreSQL.
        await trx.updateTable('users').set({ recovery_codes_confirmed_at: now() }).where('id', '=', userId).execute();
        const result = await burn(trx, userId, input);
        if (result !== 'ok') throw new NotConfirmed(result);
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.recoveryCodesConfirmed, origin });
        return result;
      }).catch((error: unknown) => {
        // Rolled back: the set stays unconfirmed.
        if (error instanceof NotConfirmed) return error.result;
        throw error;
      });
    },

    async remaining(userId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    async awaitingConfirmation(userId, confirmedAt) {
      if (confirmedAt !== null) return false;
      // A code of this set typed at a login proves the set was saved as surely as the burn step does (generate
      // deletes every older code, used ones too, so a used row here is one of this set). Counting it keeps the
      // burn step from spending a code the account may not spare: after seven logins with codes, it would take
      // the last one (review finding). Derived here, not written at login, so a login's transaction, which holds
      // the user's row FOR SHARE, never has to upgrade that lock (two such logins would deadlock on PostgreSQL).
      // An unconfirmed set therefore always has all its codes, and the burn step leaves seven.
      const rows = await db.selectFrom('recovery_codes').select('used_at').where('user_id', '=', userId).execute();
      return rows.length > 0 && rows.every((row) => row.used_at === null);
    },

    async clear(userId) {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    },
  };
}

/** Thrown inside the burn step's transaction when the code typed is not a usable one: rolls the confirmation back. */
class NotConfirmed extends Error {
  override name = 'NotConfirmed';
  constructor(readonly result: Exclude<RecoveryCodeCheck, 'ok'>) {
    super(result);
  }
}
