import { randomBytes } from 'node:crypto';
import { ROUTES } from '@latchkey/shared';
import type { Kysely } from 'kysely';
import type { SupportContact } from '../config.js';
import { isPostgres } from '../db/dialect.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import { canonicalUsername } from './accounts.js';
import type { Clock } from './clock.js';
import { emailKey } from './emails.js';
import { EVENT_TAGS, type Events, NO_ORIGIN, type RequestOrigin } from './events.js';
import { hmac, safeEqual } from './keys.js';
import { composeMail } from './mail/compose-mail.js';
import type { MailOutbox } from './mail/mail-outbox.js';
import { PasswordChangedMeanwhile, type PasswordChanges } from './password-changes.js';
import type { RequestLimits, RequestLimitVerdict } from './request-limits.js';

/** A reset link works for one hour (issue 13 item 5; NIST SP 800-63B 6.1.2.1 short-lived recovery secrets). */
export const PASSWORD_RESET_TTL_MS = 60 * 60_000;

/**
 * Every answer to a reset request takes at least this long, whether or not the account exists, so the
 * response time does not tell (ASVS V2.5.x / V3: no account enumeration through recovery).
 */
export const RESET_REQUEST_FLOOR_MS = 400;

/** At most this many accounts get a link for one address (addresses are not unique per account). */
const MAX_ACCOUNTS_PER_ADDRESS = 5;
const PURGE_INTERVAL_MS = 60_000;

/** Why a reset link is not accepted; each has its own page (issue 13 item 7). */
export type ResetTokenProblem = 'missing' | 'malformed' | 'forged' | 'expired' | 'used' | 'stale' | 'logged-in' | 'address-removed';

/** `sentTo`: the address the link was mailed to (null for links issued before links named it). */
export type ResetTokenResult =
  | { ok: true; user: User; nonce: string; sentTo: string | null; sentToId: number | null }
  | { ok: false; problem: ResetTokenProblem };

/** The path a reset link opens (DESIGN.md section 2). */
export const RESET_PASSWORD_PATH = ROUTES.resetPassword;

interface ResetPayload {
  /** nonce = password_resets.id */
  n: string;
  u: string;
  /** expiry, ms */
  x: number;
  /** digest of the password hash the link was made for: the link dies when the password changes */
  h: string;
  /**
   * user_emails.id of the address the link was mailed to: the link dies when that address leaves the
   * account, and the "password reset" notice names it. Absent in links issued before it was added.
   */
  e?: number;
}

export interface PasswordResets {
  /**
   * Mail a reset link to every account named by `usernameOrEmail`: a username (the link goes to its
   * primary address, or its earliest verified one), or an address that is verified or primary on up to 5
   * accounts (the link goes to that address). A link only ever goes to a verified address: an unverified
   * one gets a notice without a link. Each link's row, event and mail are written in one transaction (the outbox).
   * Takes the same time whether or not an account matches and never says which; callers answer alike.
   *
   * Limited so that the answer never depends on which account, if any, the name belongs to (ASVS
   * V2.2.1 anti-automation, V3.2.x / V2.5.x no account enumeration): the visible limit
   * (`password-reset`: per client address block, for everyone, and per name **as typed** — trimmed,
   * lower case) gives `blocked`; behind it, a silent per-account cap on mails actually sent
   * (`password-reset-mail`) keeps any one account from getting more than 3 links an hour, however many
   * of its names are asked for — a request over that cap answers `allowed` like any other and sends
   * nothing. Before this, the username and its addresses shared one visible allowance, so a 429 for an
   * address after three requests for a username said that the address was that account's (QA finding 2).
   */
  request(usernameOrEmail: string, origin?: RequestOrigin): Promise<RequestLimitVerdict>;
  /** Would this link work now? Reads only (to show the form). */
  inspect(token: unknown): Promise<ResetTokenResult>;
  /**
   * Set the new password through the link: the link is used up (exactly one caller wins), the password
   * set under the one rule, every session and remembered device ended, 2FA left on — one transaction.
   */
  reset(
    token: unknown,
    newPassword: string,
    origin?: RequestOrigin,
    options?: { alsoInTransaction?: (trx: Kysely<Database>, user: User) => Promise<void> },
  ): Promise<ResetTokenResult>;
}

/**
 * Reset links in the style of Warehouse's password-reset tokens (signed data naming the user, checked
 * against the password's state when used), with a database row added to make each link single use:
 * `base64url(JSON{n,u,x,h}).HMAC`. `h` is a keyed digest of the password hash at issue time, so a link
 * dies the moment the password changes — by any route — without any bookkeeping; the row's `used_at`
 * (a conditional UPDATE) is the atomic burn, and tells a reused link apart from a stale one.
 */
export interface PasswordResetDeps {
  db: Kysely<Database>;
  key: Buffer;
  passwordChanges: PasswordChanges;
  now: Clock;
  /** Bound to the transaction that stores a link (`events.boundTo`), so its event commits with it. */
  events: Events;
  /** The outbox working through a transaction: the mail commits with the link's row. */
  mailIn: (trx: Kysely<Database>) => MailOutbox;
  /** The visible 'password-reset' limits (per address block, per name as typed) and the silent 'password-reset-mail' cap per account. */
  requestLimits: RequestLimits;
  /** LATCHKEY_ORIGIN: links in mail are absolute. */
  origin: string;
  siteName: string;
  /** LATCHKEY_SUPPORT_CONTACT: where the notice for an unverified address sends someone who cannot log in. */
  support: SupportContact | null;
}

/** Where a reset request's mail goes: a link to a verified address, or a notice without one to an unverified one. */
interface ResetDestination {
  email: string;
  /** user_emails.id */
  id: number;
  verified: boolean;
}

export function createPasswordResets({
  db,
  key,
  passwordChanges,
  now,
  events,
  mailIn,
  requestLimits,
  origin: siteOrigin,
  siteName,
  support,
}: PasswordResetDeps): PasswordResets {
  const hashDigest = (user: Pick<User, 'id' | 'password_hash'>) => hmac(key, `password-hash:${user.id}:${user.password_hash}`).slice(0, 22);

  const parse = (token: unknown): { ok: true; payload: ResetPayload } | { ok: false; problem: ResetTokenProblem } => {
    if (token === undefined || token === null || token === '') return { ok: false, problem: 'missing' };
    if (typeof token !== 'string' || token.length > 512) return { ok: false, problem: 'malformed' };
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]{43}$/.test(mac)) return { ok: false, problem: 'malformed' };
    if (!safeEqual(mac, hmac(key, body))) return { ok: false, problem: 'forged' };
    let payload: ResetPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ResetPayload;
    } catch {
      return { ok: false, problem: 'forged' };
    }
    if (
      typeof payload.n !== 'string' ||
      typeof payload.u !== 'string' ||
      typeof payload.x !== 'number' ||
      typeof payload.h !== 'string' ||
      (payload.e !== undefined && !Number.isSafeInteger(payload.e))
    ) {
      return { ok: false, problem: 'forged' };
    }
    if (payload.x <= now()) return { ok: false, problem: 'expired' };
    return { ok: true, payload };
  };

  const inspectWith = async (executor: Kysely<Database>, token: unknown): Promise<ResetTokenResult> => {
    const parsed = parse(token);
    if (!parsed.ok) return parsed;
    const { payload } = parsed;
    const row = await executor
      .selectFrom('users')
      .innerJoin('password_resets', (join) => join.onRef('password_resets.user_id', '=', 'users.id').on('password_resets.id', '=', payload.n))
      // The address the link went to, if still on the account (-1: an older link names none).
      .leftJoin('user_emails as sent_to', (join) => join.onRef('sent_to.user_id', '=', 'users.id').on('sent_to.id', '=', payload.e ?? -1))
      .selectAll('users')
      .select(['password_resets.used_at as reset_used_at', 'sent_to.email as sent_to_email'])
      // Logged in since the link was made: as Warehouse's reset tokens (bound to `last_login`), the link dies.
      // Whoever asked got back in with the password, so a link left in the mailbox is only something for
      // someone else who reads it to use (NIST SP 800-63B 6.1.2.1: a recovery secret lives only while needed).
      .select((eb) =>
        eb
          .exists(
            eb
              .selectFrom('events')
              .select('events.id')
              .whereRef('events.user_id', '=', 'users.id')
              .where('events.tag', '=', EVENT_TAGS.loginSuccess)
              .whereRef('events.created_at', '>', 'password_resets.created_at'),
          )
          .as('logged_in_since'),
      )
      .where('users.id', '=', payload.u)
      .executeTakeFirst();
    // Signed by us but unknown here (the account was deleted, or the row purged long after expiry).
    if (!row) return { ok: false, problem: 'forged' };
    const { reset_used_at: usedAt, sent_to_email: sentTo, logged_in_since: loggedInSince, ...user } = row;
    if (usedAt !== null) return { ok: false, problem: 'used' };
    if (!safeEqual(payload.h, hashDigest(user))) return { ok: false, problem: 'stale' };
    // SQLite answers EXISTS with 0 or 1, PostgreSQL with a boolean.
    if (Number(loggedInSince) === 1) return { ok: false, problem: 'logged-in' };
    // Removing an address takes back what was mailed to it: the owner who finds a stranger's address on
    // the account and removes it must not leave that stranger a working reset link.
    if (payload.e !== undefined && sentTo === null) return { ok: false, problem: 'address-removed' };
    return { ok: true, user, nonce: payload.n, sentTo, sentToId: payload.e ?? null };
  };

  let lastPurge = 0;

  /** Store the link's row and queue its mail, in the caller's transaction. */
  const issue = async (trx: Kysely<Database>, user: User, address: { email: string; id: number }, time: number): Promise<void> => {
    const nonce = randomBytes(16).toString('base64url');
    const expiresAt = time + PASSWORD_RESET_TTL_MS;
    await trx.insertInto('password_resets').values({ id: nonce, user_id: user.id, created_at: time, expires_at: expiresAt, used_at: null }).execute();
    const payload: ResetPayload = { n: nonce, u: user.id, x: expiresAt, h: hashDigest(user), e: address.id };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const url = `${siteOrigin}${RESET_PASSWORD_PATH}?${new URLSearchParams({ token: `${body}.${hmac(key, body)}` }).toString()}`;
    // Only this account's name and the link: nothing about any other account using the same address.
    await mailIn(trx).enqueue({
      kind: 'password-reset',
      to: address.email,
      userId: user.id,
      ...composeMail({
        subject: `${siteName}: reset your password`,
        greeting: `Hello ${user.username},`,
        paragraphs: [
          `Someone (hopefully you) asked to reset the password of your account “${user.username}”. The link works once, for one hour.`,
          // Said of every account: one without a second factor must not read that it has one.
          'If you use two-factor authentication, it stays on: after the reset, logging in still asks for your second factor.',
        ],
        action: { label: 'Choose a new password', url },
        after: ['If you did not ask for this, ignore this message: your password stays as it is.'],
      }),
    });
  };

  /**
   * The accounts `identifier` names, each with where its mail goes. A reset link only ever goes to an address
   * the account has verified (Warehouse's `request_password_reset`; ASVS 4.0 V2.5.6, NIST SP 800-63B 6.1.2.3):
   * an address typed at registration and never confirmed may be a typo for a stranger's mailbox, and a link
   * there would hand that stranger the account. Such an address gets a notice without a link instead.
   * - By address (verified, or an account's unverified primary): the address typed. When one account has
   *   verified it, only that account is mailed: accounts that merely typed the same address (unverified; an
   *   address is not unique until verified) can neither crowd it out of the 5 nor get a notice for it.
   * - By username: the primary address if verified, else the account's earliest verified address, else a
   *   notice to the unverified primary.
   */
  const findResetTargets = async (identifier: string): Promise<Array<{ user: User; to: ResetDestination }>> => {
    const rows = await db
      .selectFrom('users')
      .leftJoin('user_emails', (join) =>
        join
          .onRef('user_emails.user_id', '=', 'users.id')
          .on('user_emails.email_key', '=', emailKey(identifier))
          .on((eb) => eb.or([eb('user_emails.verified_at', 'is not', null), eb('user_emails.is_primary', '=', 1)])),
      )
      .leftJoin('user_emails as primary_email', (join) => join.onRef('primary_email.user_id', '=', 'users.id').on('primary_email.is_primary', '=', 1))
      // Where a request by username sends its link: the primary address if verified, else the earliest verified.
      .leftJoin('user_emails as verified', (join) =>
        join.on((eb) =>
          eb(
            'verified.id',
            '=',
            eb
              .selectFrom('user_emails as candidate')
              .select('candidate.id')
              .whereRef('candidate.user_id', '=', 'users.id')
              .where('candidate.verified_at', 'is not', null)
              .orderBy('candidate.is_primary', 'desc')
              .orderBy('candidate.verified_at')
              .orderBy('candidate.id')
              .limit(1),
          ),
        ),
      )
      .selectAll('users')
      .select([
        'user_emails.email as matched_email',
        'user_emails.id as matched_id',
        'user_emails.verified_at as matched_verified_at',
        'primary_email.id as primary_id',
        'verified.id as verified_id',
        'verified.email as verified_email',
      ])
      .where((eb) => eb.or([eb('users.username', '=', canonicalUsername(identifier)), eb('user_emails.id', 'is not', null)]))
      // The account that verified the address typed first, so the limit can never leave it out.
      .orderBy((eb) => eb.case().when('user_emails.verified_at', 'is not', null).then(0).else(1).end())
      .orderBy('users.created_at')
      .limit(MAX_ACCOUNTS_PER_ADDRESS)
      .execute();
    const addressVerified = rows.some((row) => row.matched_verified_at !== null);
    const targets: Array<{ user: User; to: ResetDestination }> = [];
    for (const {
      matched_email: matched,
      matched_id: matchedId,
      matched_verified_at: matchedVerifiedAt,
      primary_id: primaryId,
      verified_id: verifiedId,
      verified_email: verifiedEmail,
      ...user
    } of rows) {
      if (matched !== null && matchedId !== null) {
        if (matchedVerifiedAt !== null) targets.push({ user, to: { email: matched, id: Number(matchedId), verified: true } });
        else if (!addressVerified) targets.push({ user, to: { email: matched, id: Number(matchedId), verified: false } });
      } else if (verifiedId !== null && verifiedEmail !== null) {
        targets.push({ user, to: { email: verifiedEmail, id: Number(verifiedId), verified: true } });
      } else if (primaryId !== null) {
        targets.push({ user, to: { email: user.email, id: Number(primaryId), verified: false } });
      }
    }
    return targets;
  };

  /** Queue the notice for an unverified address: what was asked, why no link came, what to do instead. */
  const tellNotVerified = async (trx: Kysely<Database>, user: User, to: string): Promise<void> => {
    await mailIn(trx).enqueue({
      kind: 'password-reset-not-verified',
      to,
      userId: user.id,
      ...composeMail({
        subject: `${siteName}: no password reset link sent`,
        greeting: `Hello ${user.username},`,
        paragraphs: [
          `Someone (hopefully you) asked to reset the password of your account “${user.username}”. No link was sent: this address is not verified on the account, and a reset link only goes to an address the account has confirmed.`,
          'If you can still log in, verify this address from your account page, then ask for a reset again if you need one.',
        ],
        after: ['If you did not ask for this, ignore this message: nothing has changed.'],
        contact: support
          ? {
              lead: 'Cannot log in? Only the administrators of this index can help, after verifying your identity: contact them at',
              link: { label: support.label, url: support.href },
            }
          : { lead: 'Cannot log in? Only the administrators of this index can help, after verifying your identity: contact them.', link: null },
      }),
    });
  };

  return {
    async request(usernameOrEmail, origin = NO_ORIGIN) {
      const started = Date.now();
      const identifier = usernameOrEmail.trim();
      const time = now();
      if (time - lastPurge >= PURGE_INTERVAL_MS) {
        lastPurge = time;
        // Links a day past expiry only answer "expired" from their signature: the row is no longer needed.
        await db
          .deleteFrom('password_resets')
          .where('expires_at', '<', time - 24 * 60 * 60_000)
          .execute();
      }
      // Counted per name as typed, never per the account it resolves to: the verdict must not depend on
      // whether or whose the name is. (Prefixed: a typed name can never share a bucket with anything else.)
      const verdict = await requestLimits.take('password-reset', { ip: origin.ip, subject: `name:${identifier.toLowerCase()}` });
      if (verdict.kind === 'allowed') {
        const matches = await findResetTargets(identifier);
        // The silent cap on mails sent to one account, whichever of its names was asked for: over it,
        // nothing is sent and nothing recorded (so a flood cannot fill the history either), and the
        // answer stays the same page. No address is counted here: the visible limit above did that.
        const mailable: typeof matches = [];
        for (const match of matches) {
          if ((await requestLimits.take('password-reset-mail', { ip: null, subject: `account:${match.user.id}` })).kind === 'allowed') mailable.push(match);
        }
        if (mailable.length > 0) {
          await inTransaction(db, async (trx) => {
            for (const { user, to } of mailable) {
              if (to.verified) await issue(trx, user, to, time);
              else await tellNotVerified(trx, user, to.email);
              await events
                .boundTo(trx)
                .record({ userId: user.id, tag: EVENT_TAGS.passwordResetRequested, origin, ...(to.verified ? {} : { details: { link: false } }) });
            }
          });
        }
      }
      // Equalise: whatever happened above, the answer leaves no earlier than the floor.
      const wait = RESET_REQUEST_FLOOR_MS - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return verdict;
    },

    inspect: (token) => inspectWith(db, token),

    async reset(token, newPassword, origin = NO_ORIGIN, { alsoInTransaction } = {}) {
      const checked = await inspectWith(db, token);
      if (!checked.ok) return checked;
      let result: ResetTokenResult = checked;
      await passwordChanges
        .setPassword(checked.user.id, newPassword, {
          reason: 'reset',
          origin,
          // The owner's notice says where the link went (it may not be the address the notice goes to).
          details: checked.sentTo === null ? {} : { sent_to: checked.sentTo },
          // The link was checked against this hash: a password changed since makes it stale, even mid-request.
          expectedPasswordHash: checked.user.password_hash,
          alsoInTransaction: async (trx, user) => {
            // The burn, inside the password's transaction: two posts of one link cannot both reset.
            const burned = await trx
              .updateTable('password_resets')
              .set({ used_at: now() })
              .where('id', '=', checked.nonce)
              .where('user_id', '=', user.id)
              .where('used_at', 'is', null)
              .executeTakeFirst();
            if (Number(burned.numUpdatedRows) !== 1) throw new LinkAlreadyUsed();
            // The address the link went to, again under the transaction (PostgreSQL: a share lock, so its
            // removal waits for this reset or this reset sees it gone): removed between the check above and
            // here, it must take its link with it as it does before the check.
            if (checked.sentToId !== null) {
              const read = trx.selectFrom('user_emails').select('id').where('id', '=', checked.sentToId).where('user_id', '=', user.id);
              if (!(await (isPostgres(trx) ? read.forShare() : read).executeTakeFirst())) throw new AddressRemovedMeanwhile();
            }
            await alsoInTransaction?.(trx, user);
            result = { ...checked, user };
          },
        })
        .catch(async (error: unknown) => {
          if (error instanceof LinkAlreadyUsed) result = { ok: false, problem: 'used' };
          else if (error instanceof AddressRemovedMeanwhile) result = { ok: false, problem: 'address-removed' };
          else if (error instanceof PasswordChangedMeanwhile) {
            // The password changed after the check: by this same link posted twice ("used"), or otherwise ("stale").
            const recheck = await inspectWith(db, token);
            result = recheck.ok ? { ok: false, problem: 'stale' } : recheck;
          } else throw error;
        });
      return result;
    },
  };
}

/** Thrown inside the reset transaction when another request used the link first: rolls the new password back. */
class LinkAlreadyUsed extends Error {
  override name = 'LinkAlreadyUsed';
}

/** Thrown inside the reset transaction when the address the link went to left the account after the check. */
class AddressRemovedMeanwhile extends Error {
  override name = 'AddressRemovedMeanwhile';
}
