import { type Kysely, sql } from 'kysely';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Accounts } from './accounts.js';
import { emailKey } from './email-address.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, NO_ORIGIN, type SecurityEvent, toSecurityEvent } from './events.js';
import type { ServerKeys } from './keys.js';
import { openMailBody } from './mail/mail-outbox.js';
import { open } from './secret-box.js';
import { checkSecretKey, KEY_MISMATCH } from './key-check.js';
import type { RateLimits } from './rate-limits.js';
import type { TotpGuessBudget } from './totp-guess-budget.js';
import { totpOffColumns } from './totp.js';

/** What {@link Admin.resetTwoFactor} removed, ended and lifted, for the administrator's answer. */
export interface TwoFactorReset {
  user: User;
  removed: { totp: boolean; securityKeys: number; recoveryCodes: number };
  sessionsEnded: number;
  /**
   * Whether a reset was recorded (and its notice queued). False only with `refuseWithoutFactor`, for an account
   * with no second factor left whose locks were still on (a reset cut short after its commit): then only the
   * locks were lifted — nothing removed, ended, recorded or mailed.
   */
  recorded: boolean;
  /** The second-factor locks that were on when the reset lifted them. */
  locksLifted: SecondFactorLocksLifted;
}

/** Second-factor locks as an administrator's reset found them, just before lifting them. */
export interface SecondFactorLocksLifted {
  /** The short-window lock on every second factor (too many failures lately) was in force. */
  secondFactorPaused: boolean;
  /** Wrong authentication-app codes counted against the year's TOTP guessing budget (services/totp-guess-budget.ts). */
  totpGuesses: number;
  /** That budget was spent: TOTP codes were refused for the rest of the year's window. */
  totpBudgetSpent: boolean;
}

/** Whether a reset found any second-factor lock to lift. */
function liftedAnyLock(locks: SecondFactorLocksLifted): boolean {
  return locks.secondFactorPaused || locks.totpGuesses > 0;
}

/** The shortest reason taken: a word saying what identity check was done. */
export const RESET_REASON_MIN = 3;
/** The longest reason kept (the event's `details.reason`). */
export const RESET_REASON_MAX = 500;

/**
 * Why a 2FA reset's reason is refused, or null: it must say what identity check was done, in
 * {@link RESET_REASON_MIN} to {@link RESET_REASON_MAX} characters. Refused rather than cut: a reason cut short in
 * the record says less than the administrator wrote. The admin CLI checks it before it opens the database.
 */
export function resetReasonProblem(reason: string): string | null {
  const length = reason.trim().length;
  if (length < RESET_REASON_MIN)
    return `Give a reason of ${RESET_REASON_MIN} to ${RESET_REASON_MAX} characters (what identity check was done); it is recorded.`;
  if (length > RESET_REASON_MAX) return `The reason is ${length} characters; keep it to ${RESET_REASON_MAX} characters (it is recorded as given, never cut).`;
  return null;
}

export interface Admin {
  /**
   * The lock-out path: after an administrator has verified the person's identity out of band, remove
   * every second factor (TOTP, security keys, recovery codes), end all sessions, void remembered
   * devices and pending logins, and record who did it and why.
   * `refuseWithoutFactor`: when the account has no second factor left to remove — 2FA was never on, or a
   * reset a moment ago removed it — record nothing and mail nothing: lift the second-factor locks still on
   * (a reset cut short between its commit and the lifting left them; running the command again must finish
   * it) and say so with `recorded: false`, or, with no lock on either, change nothing and throw a 409.
   *
   * Called on services bound to a transaction (`services.boundTo(trx)`, as the admin CLI does), all of it —
   * factors, sessions, event, notice, locks — commits at once. Called otherwise, the locks are lifted in their
   * own statements after the reset commits: the rate-limit and TOTP-budget services write through the
   * database they were made with, which on SQLite (one connection) cannot join this transaction.
   */
  resetTwoFactor(username: string, input: { reason: string; actor: string; refuseWithoutFactor?: boolean }): Promise<TwoFactorReset>;
}

export function createAdmin(db: Kysely<Database>, accounts: Accounts, events: Events, rateLimits: RateLimits, totpGuessBudget: TotpGuessBudget): Admin {
  return {
    async resetTwoFactor(username, { reason, actor, refuseWithoutFactor = false }) {
      const user = await accounts.findByUsername(username);
      if (!user) throw await accounts.noSuchAccount(username);
      const problem = resetReasonProblem(reason);
      if (problem) throw new ServiceError(problem, 400);
      const outcome = await inTransaction(db, async (trx) => {
        // The factors are removed first, and only they: each statement changes something only where a factor is
        // there, so an account with none has had nothing changed when it is told apart below — also inside the
        // caller's transaction, where returning early rolls nothing back. The TOTP columns are cleared only where
        // set, so the count says whether there was an app. The UPDATE takes the user's row first: on PostgreSQL a
        // second reset of the same account waits here (or on the key or code rows) and then, READ COMMITTED, sees
        // what this one removed (nothing left: not recorded, not mailed twice).
        const totp = await trx.updateTable('users').set(totpOffColumns).where('id', '=', user.id).where('totp_secret_enc', 'is not', null).executeTakeFirst();
        const hadTotp = Number(totp.numUpdatedRows) === 1;
        const keys = await trx.deleteFrom('webauthn_credentials').where('user_id', '=', user.id).executeTakeFirst();
        const codes = await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).where('used_at', 'is', null).executeTakeFirst();
        const removed = { totp: hadTotp, securityKeys: Number(keys.numDeletedRows), recoveryCodes: Number(codes.numDeletedRows) };
        if (refuseWithoutFactor && !removed.totp && removed.securityKeys === 0 && removed.recoveryCodes === 0) return null;
        // Without an app the epoch still moves: it voids remembered devices and pending logins (ASVS V3.3.3).
        if (!hadTotp)
          await trx
            .updateTable('users')
            .set((eb) => ({ security_epoch: eb('security_epoch', '+', 1) }))
            .where('id', '=', user.id)
            .execute();
        await trx.deleteFrom('webauthn_challenges').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('login_tokens').where('user_id', '=', user.id).execute();
        const sessions = await trx.deleteFrom('sessions').where('user_id', '=', user.id).executeTakeFirst();
        await events
          .boundTo(trx)
          .record({ userId: user.id, tag: EVENT_TAGS.adminTwoFactorReset, origin: NO_ORIGIN, details: { reason: reason.trim(), actor } });
        return { removed, sessionsEnded: Number(sessions.numDeletedRows) };
      });
      // The reset also lifts the second-factor locks, the year's TOTP budget included: the administrator
      // checked the person's identity out of band (NIST SP 800-63B 5.2.2 leaves unlocking to the operator).
      // Lifted after the factors are gone, never before: lifted first, the budget would give a guesser fresh
      // tries against the factors still there. Read first, so the administrator is told what was on.
      const guesses = totpGuessBudget.asCounterRow(user.id);
      const { verdict, also } = await rateLimits.checkAlso('second-factor', { account: user.id, ip: null }, [guesses.part]);
      const counted = also.get(guesses.key);
      const locksLifted: SecondFactorLocksLifted = {
        secondFactorPaused: verdict.blocked,
        totpGuesses: counted?.count ?? 0,
        totpBudgetSpent: totpGuessBudget.spentUntilFrom(counted) !== null,
      };
      if (outcome === null && !liftedAnyLock(locksLifted)) {
        throw new ServiceError(
          `"${user.username}" has no second factor (no authentication app, security key or recovery code) and no second-factor lock, so there is ` +
            'nothing to reset: they log in with their password alone (if a reset ran a moment ago, it removed them). Nothing was changed and no mail was sent.',
          409,
        );
      }
      await rateLimits.resetAccount('second-factor', user.id);
      await totpGuessBudget.reset(user.id);
      const nothingRemoved = { removed: { totp: false, securityKeys: 0, recoveryCodes: 0 }, sessionsEnded: 0 };
      return { user: (await accounts.findById(user.id)) ?? user, ...(outcome ?? nothingRemoved), recorded: outcome !== null, locksLifted };
    },
  };
}

/** An account holding an address, and its row for it (as stored: the spelling may differ from the one typed). */
export interface AddressHolder {
  user: User;
  address: { id: number; email: string; primary: boolean; verified: boolean; verifiedAt: number | null };
}

/**
 * Every account that has the address `typed`, in any state, compared as "Forgot password?" compares it (by
 * {@link emailKey}: any case, composition, Unicode or ASCII domain). The account that verified it first (at most
 * one can), then those where it is the primary address, then the rest; older accounts first within each.
 */
export async function accountsWithAddress(db: Kysely<Database>, typed: string): Promise<AddressHolder[]> {
  const rows = await db
    .selectFrom('user_emails')
    .innerJoin('users', 'users.id', 'user_emails.user_id')
    .selectAll('users')
    .select([
      'user_emails.id as address_id',
      'user_emails.email as address_email',
      'user_emails.is_primary as address_primary',
      'user_emails.verified_at as address_verified_at',
    ])
    .where('user_emails.email_key', '=', emailKey(typed))
    .orderBy('users.created_at')
    .orderBy('users.id')
    .execute();
  const holders = rows.map(({ address_id: id, address_email: email, address_primary: primary, address_verified_at: verifiedAt, ...user }) => ({
    user,
    address: { id: Number(id), email, primary: primary === 1, verified: verifiedAt !== null, verifiedAt },
  }));
  const rank = (holder: AddressHolder) => (holder.address.verified ? 0 : holder.address.primary ? 1 : 2);
  return holders.sort((a, b) => rank(a) - rank(b));
}

/**
 * The one account an administrator means by an address (the admin CLI's `--email`): the account that verified
 * it, else the one account whose primary address it is — the addresses "Forgot password?" mails a link to.
 * An address only added, never verified, names no account: anyone can add anyone's address to their own
 * (NIST SP 800-63B 6.1.2.3: a channel counts once its control is proved). Otherwise why not, with the holders.
 */
export async function accountByAddress(
  db: Kysely<Database>,
  typed: string,
): Promise<{ found: AddressHolder } | { refused: 'unknown' | 'unproven' | 'ambiguous'; holders: AddressHolder[] }> {
  const holders = await accountsWithAddress(db, typed);
  const verified = holders.find((holder) => holder.address.verified);
  if (verified) return { found: verified };
  const primary = holders.filter((holder) => holder.address.primary);
  if (primary.length === 1) return { found: primary[0]! };
  return { refused: holders.length === 0 ? 'unknown' : primary.length === 0 ? 'unproven' : 'ambiguous', holders };
}

/**
 * One page of an account's security events for an administrator, newest first (the order of the security
 * history), optionally only those whose tag is `tag` or starts with `tag:` (`account:login` takes
 * `account:login:success` and `account:login:failure`), with how many match in all.
 */
export async function adminEventPage(
  db: Kysely<Database>,
  userId: string,
  { limit, offset = 0, tag }: { limit: number; offset?: number; tag?: string },
): Promise<{ events: SecurityEvent[]; total: number }> {
  // substr, not LIKE: tags hold "_", which LIKE reads as "any character".
  const matching = () => {
    const mine = db.selectFrom('events').where('user_id', '=', userId);
    return tag === undefined ? mine : mine.where((eb) => eb.or([eb('tag', '=', tag), eb(sql<string>`substr(tag, 1, ${tag.length + 1})`, '=', `${tag}:`)]));
  };
  const rows = await matching().selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
  const total = await matching()
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return { events: rows.map(toSecurityEvent), total: Number(total.n) };
}

/**
 * The `account:delete` events kept, without their user, for the account that had `username` (deleting an
 * account keeps that one event for administrators, `details.username`: services/accounts.ts). Newest first.
 */
export async function deletionRecords(db: Kysely<Database>, username: string): Promise<SecurityEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('user_id', 'is', null)
    .where('tag', '=', EVENT_TAGS.accountDeleted)
    // A coarse filter in SQL (names are [a-z0-9._-], and "_" matches any character in LIKE); the exact one below.
    .where('details', 'like', `%${username}%`)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toSecurityEvent).filter((event) => event.details.username === username);
}

/**
 * Why this process's secret key is not the one the database was written with, or null when it is (or
 * nothing says otherwise). The admin CLI reads its own environment: run without the server's
 * LATCHKEY_SECRET_KEY, or as another system user (whose config directory holds no key, so one is
 * generated), it used to queue a verification link or a 2FA-reset notice sealed under a key the server
 * cannot open — retried for hours, then given up, and the user never told (QA, http-devtools).
 * Decided by the check value the server records at its first start (services/key-check.ts). A database no
 * server has started on since migration 009 has none: then a few stored TOTP secrets and queued mail bodies
 * not yet failed are tried — the key is the server's when it opens any of them (no other key can) — and a
 * key generated by this very run is wrong for a database that already has accounts.
 */
export async function secretKeyProblem(db: Kysely<Database>, keys: ServerKeys, options: { keyJustGenerated?: boolean } = {}): Promise<string | null> {
  const mismatch = `${KEY_MISMATCH} Mail queued by the admin CLI under another key could never be sent.`;
  const recorded = await checkSecretKey(db, keys, { record: false });
  if (recorded !== 'unknown') return recorded === 'differs' ? mismatch : null;
  const secrets = await db.selectFrom('users').select(['id', 'totp_secret_enc']).where('totp_secret_enc', 'is not', null).limit(KEY_SAMPLES).execute();
  const queued = await db
    .selectFrom('mail_outbox')
    .select(['message_id', 'body_enc'])
    .where('body_enc', 'is not', null)
    // Only messages no attempt has failed on: one the server could not open (queued by this CLI under a wrong
    // key before this check existed) says nothing about which key is right.
    .where('last_error', 'is', null)
    .orderBy('id', 'desc')
    .limit(KEY_SAMPLES)
    .execute();
  const attempts = [
    // The associated data services/totp.ts seals each secret with.
    ...secrets.map((row) => () => open(keys['totp-secret'], row.totp_secret_enc!, `totp:${row.id}`)),
    ...queued.map((row) => () => openMailBody(keys['mail-body'], row.message_id, row.body_enc!)),
  ];
  if (attempts.length > 0) return attempts.some(opens) ? null : mismatch;
  if (options.keyJustGenerated && (await db.selectFrom('users').select('id').limit(1).executeTakeFirst())) {
    return `${mismatch} No key was found for this run, so one was just generated, but the database already has accounts.`;
  }
  return null;
}

/** How many sealed values of each kind {@link secretKeyProblem} tries. */
const KEY_SAMPLES = 20;

function opens(read: () => unknown): boolean {
  try {
    read();
    return true;
  } catch {
    return false;
  }
}
