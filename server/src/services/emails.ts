import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ROUTES } from '@latchkey/shared';
import type { RecipientCapRule } from '../config.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Database } from '../db/schema.js';
import { checkEmailAddress, isUniqueViolation } from './accounts.js';
import { lockAccountRow } from './lock-account-row.js';
import type { Clock } from './clock.js';
import { emailKey } from './email-address.js';
import { ServiceError } from './errors.js';
import { createEvents, EVENT_TAGS, type EventFollowUp, NO_ORIGIN, type RequestOrigin } from './events.js';
import { composeMail } from './mail/compose-mail.js';
import { createMailOutbox } from './mail/mail-outbox.js';
import { signToken, verifySignedToken } from './signed-token.js';
import { type CappedRequest, createVerificationMailCap, VerificationMailCapped } from './verification-mail-cap.js';

/** A verification link works for 24 hours (Warehouse's e-mail token lifetime too). */
export const EMAIL_VERIFY_TTL_MS = 24 * 60 * 60_000;
/** Addresses per account, verified or not: enough for real use, a bound on what one account can make us mail. */
export const MAX_ADDRESSES = 10;
const ALREADY_VERIFIED = 'This address is already verified.';
/** An address id that is not (or no longer) on the account: another account's, or removed meanwhile (the route's words too). */
export const NOT_ON_ACCOUNT = 'That address is not on your account (any more). Reload the account page.';
const PRIMARY_NOT_REMOVABLE = 'Your primary address cannot be removed. Make another verified address primary first.';
/** {@link Emails.remove} with `unverifiedOnly`, for an address verified since the account page was read. */
const VERIFIED_SINCE = 'This address was verified meanwhile, and removing a verified address needs your password. Reload the account page and try again.';
const VERIFIED_ELSEWHERE = 'This address is already verified by another account.';
/** A resend refused for an address in {@link AddressWithLinkState.verifiedElsewhere}: the account page's words. */
const RESEND_VERIFIED_ELSEWHERE =
  'This address was verified by another account as well, and an address can belong to one account only, so its verification here was withdrawn (your security history says when). While the other account has it, no link can verify it here: use a different address.';

export interface EmailAddress {
  id: number;
  email: string;
  primary: boolean;
  verified: boolean;
  verifiedAt: number | null;
  /** When the newest verification link was sent (null: never, or verified before migration 005). */
  verifySentAt: number | null;
}

/**
 * What the account page says of an address's newest link, besides {@link EmailAddress}: all false for a
 * verified address. Read with the addresses ({@link Emails.listWithLinkState}), never worked out by the view,
 * which has no clock.
 */
export interface AddressWithLinkState extends EmailAddress {
  /** A link was sent and its 24 hours ({@link EMAIL_VERIFY_TTL_MS}) are over: "open the link we sent" would be false. */
  linkExpired: boolean;
  /**
   * Verified here once, and that verification withdrawn since (migration 010 gives a mailbox that two accounts
   * had verified to one of them): the link sent then was used, and no older link works either.
   */
  verificationWithdrawn: boolean;
  /**
   * Withdrawn, and another account has the address verified now: a new link could only fail. Said only of an
   * address this account once verified, never of one merely added or registered unverified: otherwise anyone
   * could type an address and read on their own page whether some account has it verified.
   */
  verifiedElsewhere: boolean;
}

export type EmailTokenProblem = 'malformed' | 'expired' | 'used' | 'superseded' | 'withdrawn' | 'withdrawn-taken' | 'other-account' | 'removed' | 'taken';

export type EmailVerifyResult = { ok: true; email: string; alreadyVerified: false } | { ok: false; problem: EmailTokenProblem };

/** Status and words for each problem; the page adds a way forward (the account page, where "resend" is). */
export const EMAIL_TOKEN_PROBLEMS: Record<EmailTokenProblem, { status: number; title: string; message: string }> = {
  malformed: {
    status: 400,
    title: 'This link is not valid',
    message:
      'This verification link is damaged or was not made by this server. Copy the whole link from the message, or send a new one from your account page.',
  },
  expired: { status: 410, title: 'This link has expired', message: 'Verification links work for 24 hours. Send a new one from your account page.' },
  used: { status: 409, title: 'Address already verified', message: 'This link was already used: the address is verified. Nothing more to do.' },
  superseded: {
    status: 410,
    title: 'A newer link was sent',
    message:
      'A newer verification link was sent to this address since this one, and only the newest works. Use the newest message, or send another from your account page.',
  },
  // The address was verified here once (its nonce is gone) and migration 010 withdrew that verification: "a newer
  // link was sent" would be false, and so would "already verified".
  withdrawn: {
    status: 410,
    title: 'This link no longer works',
    message:
      'This address was verified on your account, and that verification was withdrawn later (your security history says when), so the links sent before then no longer work. Send a new one from your account page.',
  },
  'withdrawn-taken': {
    status: 409,
    title: 'Address verified by another account',
    message:
      'This address was verified on your account, but another account has verified it too, and an address can belong to one account only: its verification here was withdrawn (your security history says when). While the other account has it, no link can verify it here. Use a different address.',
  },
  'other-account': {
    status: 403,
    title: 'This link is for another account',
    message:
      'This verification link belongs to a different account than the one you are logged in with. Log out, then log in to the account the address was added to and open the link again.',
  },
  removed: {
    status: 404,
    title: 'Address no longer on the account',
    message: 'This address was removed from the account after the link was sent. Add it again from your account page if you want to use it.',
  },
  taken: {
    status: 409,
    title: 'Address verified by another account',
    message: 'Another account verified this address first; an address can belong to one account only. Use a different address.',
  },
};

export interface Emails {
  list(userId: string): Promise<EmailAddress[]>;
  /** {@link list} with each address's {@link AddressWithLinkState}, for the account page (a second statement only after a withdrawal). */
  listWithLinkState(userId: string): Promise<AddressWithLinkState[]>;
  /** True when the account's primary address is verified (needed before a first second factor, DESIGN.md section 2). */
  hasVerifiedPrimary(userId: string): Promise<boolean>;
  /** Throws a 403 {@link ServiceError} saying how to fix it unless the primary address is verified. */
  requireVerifiedPrimary(userId: string): Promise<void>;
  /**
   * The first address of a new account, inside its registration transaction (services/accounts.ts):
   * primary, and either mailed a verification link or, for the admin CLI and seeding, marked verified.
   * The account is created even when the address's verification mails are capped (see `recipientCap`): the
   * address is then stored without a link (`verifySentAt` null), and {@link Emails.verificationMailWait} says
   * for how long: refusing the registration would make it depend on what others did with the address.
   * `origin`: the registration's request, whose network the mail is counted against (absent: no client
   * address, as for the admin CLI and seeding; see verification-mail-cap.ts).
   */
  addFirst(user: { id: string; username: string }, email: string, options: { verified: boolean; origin?: RequestOrigin }): Promise<void>;
  /**
   * Add another (unverified, non-primary) address and mail it a verification link. Throws
   * {@link VerificationMailCapped} (429), adding nothing, when the address's verification mails are capped.
   */
  add(userId: string, email: string, origin: RequestOrigin): Promise<EmailAddress>;
  /**
   * A new verification link for an unverified address of this account (the older link stops working). Throws
   * {@link VerificationMailCapped} (429), changing nothing (the older link keeps working), when capped; a 409,
   * mailing nothing, when the address is {@link AddressWithLinkState.verifiedElsewhere} (its link could only fail).
   */
  resend(userId: string, emailId: number, origin: RequestOrigin): Promise<EmailAddress>;
  /**
   * Throws the {@link ServiceError} that `add` or `resend` would throw now for this request, writing
   * nothing: the route counts the per-account mail limit only for requests that will send a mail, so a typo,
   * a duplicate or an address whose mails are capped does not use up the hour's allowance (QA finding 3).
   * `add`/`resend` check again in their transaction, so a change in between is still refused. `origin`: the
   * request's, as passed to `add`/`resend` (the cap counts per network; absent: no client address).
   */
  checkMailable(userId: string, request: { add: string } | { resend: number }, origin?: RequestOrigin): Promise<void>;
  /**
   * How long until a verification mail asked for from `ip`'s network may go to `email` again (0: now): when
   * "Send link" works, said at registration and on the account page. `ip` absent or null: no client address
   * (the admin CLI).
   */
  verificationMailWait(email: string, ip?: string | null): Promise<number>;
  /** Make a verified address the primary one; the previous primary is told (security notice). */
  makePrimary(userId: string, emailId: number, origin: RequestOrigin): Promise<EmailAddress>;
  /**
   * Remove a non-primary address: 400 for the primary one (also when it became primary meanwhile), 404 when it is
   * not on the account (also when a concurrent removal took it first: only the request that deleted the row records
   * `account:email:removed` and mails the notice). `unverifiedOnly`: the request was not re-authenticated (the route
   * asks for the password before removing a verified address only): refuse (409), removing nothing, should the
   * address have been verified since the page showed it unverified.
   */
  remove(userId: string, emailId: number, origin: RequestOrigin, options?: { unverifiedOnly?: boolean }): Promise<EmailAddress>;
  /** Follow a verification link as `sessionUserId` (links work only for the account they were made for). */
  verify(token: unknown, sessionUserId: string, origin: RequestOrigin): Promise<EmailVerifyResult>;
  /**
   * Admin CLI (`verify-email`): mark the account's address `email` (as typed: found by its key) verified without
   * a link. Its `account:email:verified` event (`by: "admin"`, and `actor`, who ran it) and the notice it mails
   * commit with the change. Throws a {@link ServiceError}, changing nothing: 404 when the account has no such
   * address, 409 when it is verified already, or verified by another account (an address belongs to one account).
   */
  markVerified(userId: string, email: string, options?: { actor?: string }): Promise<EmailAddress>;
}

export interface EmailsOptions {
  db: Kysely<Database>;
  now: Clock;
  /** `keys['email-verify']`: signs verification links. */
  verifyKey: Buffer;
  /** `keys['mail-body']`: seals queued message bodies. */
  mailKey: Buffer;
  /** LATCHKEY_ORIGIN: links are built from it, never from a request's Host header. */
  origin: string;
  siteName: string;
  /** The events' mail follow-up, so events recorded here mail their notices in the same transaction. */
  followUp?: EventFollowUp;
  /**
   * Verification mails to one mailbox, per requesting network and across every account and instance
   * (`requestLimits['verification-resend'].perRecipient`, verification-mail-cap.ts); undefined: no such cap.
   */
  recipientCap?: RecipientCapRule | undefined;
  /** `keys['rate-limit-subject']`: the cap's counters are kept under an HMAC of the mailbox with it. */
  recipientCapKey: Buffer;
}

interface TokenPayload {
  /** user_emails.id */
  i: number;
  n: string;
  u: string;
  t: number;
}

// How addresses are compared (trimmed, NFC, lower case, the domain in ASCII): one definition, in email-address.ts.
export { emailKey } from './email-address.js';

/**
 * Addresses of an account and their verification (ASVS V2.5.x communication channel; NIST SP 800-63B
 * 6.1.2.3 binds a new channel only after proof of control). A link carries the address row, a nonce
 * stored with the row, the account and the issue time, signed (HMAC): single use (verifying clears
 * the nonce), one live link per address (a resend replaces the nonce), 24 hours, this account only.
 */
export function createEmails(options: EmailsOptions): Emails {
  const { db, now, verifyKey, mailKey, origin, siteName, followUp } = options;
  const recipientCap = createVerificationMailCap(options.recipientCapKey, options.recipientCap);

  const toAddress = (row: { id: number; email: string; is_primary: number; verified_at: number | null; verify_sent_at: number | null }): EmailAddress => ({
    id: Number(row.id),
    email: row.email,
    primary: row.is_primary === 1,
    verified: row.verified_at !== null,
    verifiedAt: row.verified_at,
    verifySentAt: row.verify_sent_at,
  });

  const rowOf = async (trx: Kysely<Database>, userId: string, emailId: number) => {
    if (!Number.isSafeInteger(emailId) || emailId <= 0) throw new ServiceError('Choose one of your addresses.', 400);
    const row = await trx.selectFrom('user_emails').selectAll().where('id', '=', emailId).where('user_id', '=', userId).executeTakeFirst();
    // Another account's row id gets the same answer as a missing one (ASVS V4.2.1: no IDOR, no oracle).
    if (!row) throw new ServiceError(NOT_ON_ACCOUNT, 404);
    return row;
  };

  /**
   * Refuses an address already on the account, and an account already holding {@link MAX_ADDRESSES}. `address`
   * is normalised ({@link checkEmailAddress}); every row's key is {@link emailKey} of its address (migration
   * 010 re-keyed the rows stored before that rule), so the same mailbox in another spelling is "already on
   * your account" here, and the unique (user_id, email_key) constraint refuses it in a race.
   */
  const checkRoomFor = async (executor: Kysely<Database>, userId: string, address: string) => {
    const key = emailKey(address);
    const existing = await executor.selectFrom('user_emails').select('email_key').where('user_id', '=', userId).execute();
    if (existing.some((row) => row.email_key === key)) throw new ServiceError('This address is already on your account.', 409, 'email');
    if (existing.length >= MAX_ADDRESSES) throw new ServiceError(`An account can have at most ${MAX_ADDRESSES} addresses. Remove one first.`, 400, 'email');
  };

  const verifiedElsewhere = async (trx: Kysely<Database>, userId: string, key: string) =>
    (await trx
      .selectFrom('user_emails')
      .select('id')
      .where('email_key', '=', key)
      .where('verified_at', 'is not', null)
      .where('user_id', '!=', userId)
      .executeTakeFirst()) !== undefined;

  /**
   * Unverified without a nonce after a link was sent: verifying cleared the nonce, and the verification was
   * withdrawn since (migration 010; see `verify`). A capped registration has no nonce either, but never had a link.
   */
  const isWithdrawn = (row: { verified_at: number | null; verify_nonce: string | null; verify_sent_at: number | null }) =>
    row.verified_at === null && row.verify_nonce === null && row.verify_sent_at !== null;

  /**
   * Refuses a resend whose link could only answer "verified by another account" (409, nothing mailed or counted).
   * Only for an address this account once verified, as {@link AddressWithLinkState.verifiedElsewhere} is: of an
   * address merely added or registered, saying so would tell anyone whether a stranger's address has an
   * account (no account enumeration, OWASP WSTG-IDNT-04): that case is mailed, and its link says so to the mailbox's owner only.
   */
  const refuseIfVerifiedElsewhere = async (
    executor: Kysely<Database>,
    userId: string,
    row: { email_key: string; verified_at: number | null; verify_nonce: string | null; verify_sent_at: number | null },
  ) => {
    if (isWithdrawn(row) && (await verifiedElsewhere(executor, userId, row.email_key))) throw new ServiceError(RESEND_VERIFIED_ELSEWHERE, 409);
  };

  /**
   * New nonce on the row + the verification message in the outbox, in `trx`; `sent: false`, writing nothing
   * else, when the address's verification mails are capped (the older link, if any, keeps working).
   */
  const sendLink = async (
    trx: Kysely<Database>,
    userId: string,
    emailId: number,
    email: string,
    ip: string | null,
  ): Promise<{ sent: true } | { sent: false; retryAfterMs: number }> => {
    const time = now();
    // Counted in the transaction that queues the mail (the upserts are atomic across instances on PostgreSQL, as
    // the other counters are). A refused add or resend throws, so its transaction and its count roll back; a
    // registration commits whether or not its mail went, and so does its count of the held-back mail: one count
    // more against its own network's allowance (and, when the network's allowance let it through, the shared
    // one), which a flood of registrations needs to pay for anyway.
    const cap = await recipientCap.take(trx, email, ip, time);
    if (!cap.allowed) return { sent: false, retryAfterMs: cap.retryAfterMs };
    const user = await trx.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirstOrThrow();
    const nonce = randomBytes(16).toString('base64url');
    await trx.updateTable('user_emails').set({ verify_nonce: nonce, verify_sent_at: time }).where('id', '=', emailId).execute();
    const token = signToken(verifyKey, { i: emailId, n: nonce, u: userId, t: time } satisfies TokenPayload);
    const url = `${origin}${ROUTES.verifyEmail}?token=${encodeURIComponent(token)}`;
    await createMailOutbox(trx, mailKey, now).enqueue({
      kind: 'verify-email',
      to: email,
      userId,
      ...composeMail({
        subject: `${siteName}: verify your e-mail address`,
        greeting: `Hello ${user.username},`,
        paragraphs: [
          `Please confirm that ${email} is your address for the account “${user.username}”.`,
          'The link works once, within 24 hours, while you are logged in to that account.',
        ],
        action: { label: 'Verify this address', url },
        after: ['If you did not create an account or add this address, ignore this message: nothing changes unless the link is opened.'],
      }),
    });
    return { sent: true };
  };

  /** {@link sendLink} for a request that must not go ahead without its mail: the cap rolls the request back (429). */
  const sendLinkOrRefuse = async (trx: Kysely<Database>, userId: string, emailId: number, email: string, request: CappedRequest, from: RequestOrigin) => {
    const result = await sendLink(trx, userId, emailId, email, from.ip);
    if (!result.sent) throw new VerificationMailCapped(result.retryAfterMs, request);
  };

  const eventsIn = (trx: Kysely<Database>) => createEvents(trx, now, followUp);

  const rowsOf = (userId: string) =>
    db.selectFrom('user_emails').selectAll().where('user_id', '=', userId).orderBy('is_primary', 'desc').orderBy('id').execute();

  const emails: Emails = {
    async list(userId) {
      return (await rowsOf(userId)).map(toAddress);
    },

    async listWithLinkState(userId) {
      const rows = await rowsOf(userId);
      const time = now();
      const keys = rows.filter(isWithdrawn).map((row) => row.email_key);
      const takenKeys =
        keys.length === 0
          ? new Set<string>()
          : new Set(
              (
                await db
                  .selectFrom('user_emails')
                  .select('email_key')
                  .where('email_key', 'in', keys)
                  .where('verified_at', 'is not', null)
                  .where('user_id', '!=', userId)
                  .execute()
              ).map((row) => row.email_key),
            );
      return rows.map((row) => ({
        ...toAddress(row),
        // Expired exactly when `verify` starts answering 'expired' for the newest link.
        linkExpired: row.verified_at === null && row.verify_sent_at !== null && time - Number(row.verify_sent_at) >= EMAIL_VERIFY_TTL_MS,
        verificationWithdrawn: isWithdrawn(row),
        verifiedElsewhere: isWithdrawn(row) && takenKeys.has(row.email_key),
      }));
    },

    async hasVerifiedPrimary(userId) {
      const row = await db
        .selectFrom('user_emails')
        .select('id')
        .where('user_id', '=', userId)
        .where('is_primary', '=', 1)
        .where('verified_at', 'is not', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    async requireVerifiedPrimary(userId) {
      if (await emails.hasVerifiedPrimary(userId)) return;
      throw new ServiceError(
        'Verify your primary e-mail address first: security notices about your second factors go there, and it is how you get back in if you lose them. Use the verification link we mailed you, or send a new one from your account page.',
        403,
      );
    },

    async addFirst(user, typed, { verified, origin: from = NO_ORIGIN }) {
      // Registration stored the normalised address on the user already; normalising again changes nothing.
      const email = checkEmailAddress(typed);
      const time = now();
      await inTransaction(db, async (trx) => {
        const key = emailKey(email);
        // Only a vouched-for address can clash here (an address is verified by one account at most). An
        // unverified one is accepted whoever holds it: refusing would tell a stranger the address has an
        // account (no enumeration, as at registration); the clash shows only to the mailbox's owner, on the link.
        if (verified && (await verifiedElsewhere(trx, user.id, key))) {
          throw new ServiceError(VERIFIED_ELSEWHERE, 409, 'email');
        }
        const row = await trx
          .insertInto('user_emails')
          .values({
            user_id: user.id,
            email,
            email_key: key,
            is_primary: 1,
            verified_at: verified ? time : null,
            verify_nonce: null,
            verify_sent_at: null,
            created_at: time,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        // Capped: the account is made all the same, its address without a link (the registration page says so,
        // and "Resend link" works once the cap's window ends). No event: a cap reached records nothing, as the
        // reset-mail cap does (a flood must not fill the owner's history either).
        if (!verified) await sendLink(trx, user.id, Number(row.id), email, from.ip);
      });
    },

    async checkMailable(userId, request, from = NO_ORIGIN) {
      let address: string;
      if ('add' in request) {
        address = checkEmailAddress(request.add);
        await checkRoomFor(db, userId, address);
      } else {
        const row = await rowOf(db, userId, request.resend);
        if (row.verified_at !== null) throw new ServiceError(ALREADY_VERIFIED, 409);
        await refuseIfVerifiedElsewhere(db, userId, row);
        address = row.email;
      }
      const wait = await recipientCap.wait(db, address, from.ip, now());
      if (wait > 0) throw new VerificationMailCapped(wait, 'add' in request ? 'add' : 'resend');
    },

    verificationMailWait: (email, ip = null) => recipientCap.wait(db, email, ip, now()),

    async add(userId, input, origin) {
      // Stored, mailed and shown as normalised: NFC, the domain in its ASCII form (email-address.ts).
      const email = checkEmailAddress(input);
      const key = emailKey(email);
      return inTransaction(db, async (trx) => {
        await checkRoomFor(trx, userId, email);
        const time = now();
        let id: number;
        try {
          const row = await trx
            .insertInto('user_emails')
            .values({ user_id: userId, email, email_key: key, is_primary: 0, verified_at: null, verify_nonce: null, verify_sent_at: null, created_at: time })
            .returning('id')
            .executeTakeFirstOrThrow();
          id = Number(row.id);
        } catch (error) {
          if (isUniqueViolation(error)) throw new ServiceError('This address is already on your account.', 409, 'email');
          throw error;
        }
        await sendLinkOrRefuse(trx, userId, id, email, 'add', origin);
        await eventsIn(trx).record({ userId, tag: EVENT_TAGS.emailAdded, origin, details: { email } });
        return toAddress(await rowOf(trx, userId, id));
      });
    },

    async resend(userId, emailId, origin) {
      return inTransaction(db, async (trx) => {
        // The account's row first, as `remove` takes it (otherwise a resend and a removal of one address deadlock
        // on PostgreSQL: this one holds the address's row and waits for the account's, for its rows' foreign keys).
        await lockAccountRow(trx, userId);
        const row = await rowOf(trx, userId, emailId);
        if (row.verified_at !== null) throw new ServiceError(ALREADY_VERIFIED, 409);
        await refuseIfVerifiedElsewhere(trx, userId, row);
        await sendLinkOrRefuse(trx, userId, Number(row.id), row.email, 'resend', origin);
        // Every mail that carries a token is in the history: who asked, from where, for which address.
        await eventsIn(trx).record({ userId, tag: EVENT_TAGS.emailVerificationResent, origin, details: { email: row.email } });
        return toAddress(await rowOf(trx, userId, emailId));
      });
    },

    async makePrimary(userId, emailId, origin) {
      return inTransaction(db, async (trx) => {
        // The account's row first, then its addresses: concurrent "make primary" requests of one account run
        // one after the other from here, and each reads the addresses only once the one before it committed.
        // Read before the lock, a double submit passed the "already primary" check twice (two changes, two
        // "primary changed" events), and requests for different addresses deadlocked on the one-primary index.
        await lockAccountRow(trx, userId);
        const row = await rowOf(trx, userId, emailId);
        if (row.is_primary === 1) throw new ServiceError('This address is already your primary address.', 409);
        if (row.verified_at === null) throw new ServiceError('Verify this address before making it your primary address.', 400);
        const previous = await trx.selectFrom('user_emails').select('email').where('user_id', '=', userId).where('is_primary', '=', 1).executeTakeFirst();
        // Clear the old primary first: the unique index allows one primary per account at every moment.
        await trx.updateTable('user_emails').set({ is_primary: 0 }).where('user_id', '=', userId).where('is_primary', '=', 1).execute();
        try {
          await trx.updateTable('user_emails').set({ is_primary: 1 }).where('id', '=', row.id).execute();
        } catch (error) {
          // Another "make primary" of this account committed first (two tabs; PostgreSQL runs them side by
          // side): the one-primary index refuses the second, which is the owner's conflict, not a server fault.
          if (isUniqueViolation(error)) throw new ServiceError('Your primary address was changed meanwhile. Reload the account page and try again.', 409);
          throw error;
        }
        await trx.updateTable('users').set({ email: row.email }).where('id', '=', userId).execute();
        await eventsIn(trx).record({ userId, tag: EVENT_TAGS.primaryEmailChanged, origin, details: { from: previous?.email ?? null, to: row.email } });
        return toAddress(await rowOf(trx, userId, emailId));
      });
    },

    async remove(userId, emailId, origin, { unverifiedOnly = false } = {}) {
      return inTransaction(db, async (trx) => {
        // The account's row first, as "make primary" and "verify" take it: a removal and a change of the same
        // address then run one after the other, and this one reads the address only once the other committed.
        // Without it (PostgreSQL, READ COMMITTED) removing B while B was made primary read B as not primary, then
        // deleted it by id once "make primary" committed: the account was left with no primary address and
        // `users.email` naming the removed address, where reset links then went.
        await lockAccountRow(trx, userId);
        const row = await rowOf(trx, userId, emailId);
        if (row.is_primary === 1) throw new ServiceError(PRIMARY_NOT_REMOVABLE, 400);
        // Never the primary, whatever happened since the read; RETURNING says whether this request deleted the row
        // (only that one records the event and mails the notice: a double submit used to do both twice) and how
        // it was when it went (verified or not), not how an earlier read saw it.
        const deleted = await trx
          .deleteFrom('user_emails')
          .where('id', '=', row.id)
          .where('user_id', '=', userId)
          .where('is_primary', '=', 0)
          .returning(['email', 'verified_at'])
          .executeTakeFirst();
        if (!deleted) {
          // Made primary meanwhile (400, as above), else gone (rowOf's 404).
          if ((await rowOf(trx, userId, emailId)).is_primary === 1) throw new ServiceError(PRIMARY_NOT_REMOVABLE, 400);
          throw new ServiceError(NOT_ON_ACCOUNT, 404);
        }
        // Thrown after the delete, so the transaction takes it back.
        if (unverifiedOnly && deleted.verified_at !== null) throw new ServiceError(VERIFIED_SINCE, 409);
        // `verified`: the owner is told of a verified address leaving (it could receive reset links), not of a typo.
        await eventsIn(trx).record({ userId, tag: EVENT_TAGS.emailRemoved, origin, details: { email: deleted.email, verified: deleted.verified_at !== null } });
        return toAddress({ ...row, verified_at: deleted.verified_at });
      });
    },

    async verify(token, sessionUserId, origin) {
      const payload = verifySignedToken(verifyKey, token);
      if (!payload || typeof payload.i !== 'number' || typeof payload.n !== 'string' || typeof payload.u !== 'string' || typeof payload.t !== 'number') {
        return { ok: false, problem: 'malformed' };
      }
      const time = now();
      if (time - payload.t >= EMAIL_VERIFY_TTL_MS || payload.t > time + 60_000) return { ok: false, problem: 'expired' };
      if (payload.u !== sessionUserId) return { ok: false, problem: 'other-account' };
      return inTransaction(db, async (trx) => {
        // The account's row first, as removing an address takes it: a link opened while its address is removed
        // waits for the removal (and then reads the row gone) instead of each holding a row the other needs
        // (PostgreSQL: the address's row here, the account's row for the event's foreign key; a deadlock and a retry).
        await lockAccountRow(trx, sessionUserId);
        const readRow = () =>
          trx
            .selectFrom('user_emails')
            .selectAll()
            .where('id', '=', payload.i as number)
            .where('user_id', '=', sessionUserId)
            .executeTakeFirst();
        /** Why the link cannot verify the address as `row` has it now; null: it can. */
        const problemOf = async (row: Awaited<ReturnType<typeof readRow>>): Promise<EmailTokenProblem | null> => {
          if (!row) return 'removed';
          if (row.verified_at !== null) return 'used';
          // Unverified without a nonce, yet a link was made for it: verifying cleared the nonce, and the verification
          // was withdrawn since (migration 010 gives a mailbox verified by two accounts to one). Only the mailbox's
          // holder, logged in to this account, gets this far, so saying that another account has it tells no stranger.
          if (row.verify_nonce === null) return (await verifiedElsewhere(trx, sessionUserId, row.email_key)) ? 'withdrawn-taken' : 'withdrawn';
          if (row.verify_nonce !== payload.n) return 'superseded';
          if (await verifiedElsewhere(trx, sessionUserId, row.email_key)) return 'taken';
          return null;
        };
        const row = await readRow();
        const problem = await problemOf(row);
        if (problem !== null || !row) return { ok: false, problem: problem ?? 'removed' } as const;
        // The nonce in the WHERE makes the link single use even when two requests race.
        let updated;
        try {
          updated = await trx
            .updateTable('user_emails')
            .set({ verified_at: time, verify_nonce: null })
            .where('id', '=', row.id)
            .where('verify_nonce', '=', payload.n as string)
            .executeTakeFirst();
        } catch (error) {
          if (isUniqueViolation(error)) return { ok: false, problem: 'taken' } as const;
          throw error;
        }
        // Nothing updated: something changed the row since it was read. Read it again to say what: "used" only when
        // it is there and verified; a row removed meanwhile gets the page of a link whose address was removed (it
        // used to say "already verified" of an address never verified), a newer link "superseded".
        if (Number(updated.numUpdatedRows) !== 1) return { ok: false, problem: (await problemOf(await readRow())) ?? 'used' } as const;
        await eventsIn(trx).record({ userId: sessionUserId, tag: EVENT_TAGS.emailVerified, origin, details: { email: row.email } });
        return { ok: true, email: row.email, alreadyVerified: false } as const;
      });
    },

    async markVerified(userId, email, { actor } = {}) {
      return inTransaction(db, async (trx) => {
        // The account's row first, as `remove` takes it: an address the owner removes meanwhile is then read gone
        // (404), not "already verified", and the two never deadlock.
        await lockAccountRow(trx, userId);
        const key = emailKey(email);
        const row = await trx.selectFrom('user_emails').selectAll().where('user_id', '=', userId).where('email_key', '=', key).executeTakeFirst();
        if (!row) throw new ServiceError('This address is not on the account.', 404, 'email');
        if (row.verified_at !== null) throw new ServiceError(ALREADY_VERIFIED, 409, 'email');
        if (await verifiedElsewhere(trx, userId, key)) throw new ServiceError(VERIFIED_ELSEWHERE, 409, 'email');
        let updated;
        try {
          updated = await trx
            .updateTable('user_emails')
            .set({ verified_at: now(), verify_nonce: null })
            .where('id', '=', row.id)
            .where('verified_at', 'is', null)
            .executeTakeFirst();
        } catch (error) {
          // Another account verified it after the check (PostgreSQL runs both at once): the unique index decides.
          if (isUniqueViolation(error)) throw new ServiceError(VERIFIED_ELSEWHERE, 409, 'email');
          throw error;
        }
        if (Number(updated.numUpdatedRows) !== 1) throw new ServiceError(ALREADY_VERIFIED, 409, 'email');
        // The address as stored (not as the administrator typed it), and who did it, as the other admin events do.
        await eventsIn(trx).record({
          userId,
          tag: EVENT_TAGS.emailVerified,
          origin: NO_ORIGIN,
          details: { email: row.email, by: 'admin', ...(actor === undefined ? {} : { actor }) },
        });
        return toAddress(await rowOf(trx, userId, Number(row.id)));
      });
    },
  };
  return emails;
}
