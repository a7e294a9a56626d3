import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { Database, SessionRow } from '../db/schema.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Clock } from './clock.js';
import { ServiceError } from './errors.js';
import { EVENT_TAGS, type Events, type RequestOrigin } from './events.js';
import { safeEqual } from './keys.js';
import { open, seal } from './secret-box.js';

/** ASVS V3.3.2 (L2): re-authentication after 12 hours, or 30 minutes of inactivity. */
export const SESSION_IDLE_TIMEOUT_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60_000;
/** Changing 2FA needs a password unless the user authenticated within this window. */
export const REAUTH_WINDOW_MS = 5 * 60_000;
/** Writing last_seen_at on every request would make every page view a DB write. */
const TOUCH_INTERVAL_MS = 60_000;
/** The same cap as the security history's user agents. */
const MAX_USER_AGENT = 512;

export type FlashKind = 'success' | 'warning' | 'error';
export interface Flash {
  kind: FlashKind;
  text: string;
}

/** What is known about where a session started, kept so the account page can list it. */
export interface SessionStart {
  /** The browser's User-Agent header (stored capped; shown parsed). */
  userAgent?: string | null;
  /** The security-history event of the login that started the session. */
  eventId?: number | null;
  /**
   * The account's security epoch as the login found it (the `users` row its password, second factor or
   * remembered device was checked against). Given, the session is created only while the account is still
   * at that epoch: a password change or reset, a 2FA change or "Forget remembered devices" that commits
   * while the login is under way makes it {@link LoginOutdated} instead of a session nothing ends.
   */
  securityEpoch?: number;
}

/**
 * The account's password, second factors or remembered devices changed while this login was under way
 * (between the check of what it presented and its session): no session. A password change or reset ended
 * every other session (ASVS V3.3.3), and one created just after it from the old password must not survive
 * it; a 2FA change or "Forget remembered devices" made what the login presented stale.
 */
export class LoginOutdated extends ServiceError {
  override name = 'LoginOutdated';
  constructor() {
    super('Your password or two-factor settings changed while you were logging in. Log in again with your current details.', 409);
  }
}

/** A live session as the account page lists it: its row, and where its login came from. */
export interface ListedSession extends SessionRow {
  /**
   * The address recorded with the login event that started the session (`event_id`), as the security
   * history shows it; null when the session has no such event, the event is gone or recorded no address.
   */
  login_ip: string | null;
}

export interface Sessions {
  /**
   * A new random session (256-bit token) for `userId`; the cookie carries the token, the DB its SHA-256.
   * With `start.securityEpoch`, throws {@link LoginOutdated} (and creates nothing) when the account has
   * moved past that epoch, even while the change that moves it is still committing. `options.within` writes
   * it in that transaction (the login's: its event and the session commit together, services/login.ts).
   */
  create(userId: string, start?: SessionStart, options?: { within?: Kysely<Database> }): Promise<{ token: string; session: SessionRow }>;
  /**
   * The user's live sessions (not idle or past the absolute limit), most recently used first, each with
   * the address of its login event — read in the same statement (a join), not once per session.
   */
  listForUser(userId: string): Promise<ListedSession[]>;
  /**
   * Ends one session of `userId` by its id and records `account:session:ended` (with its browser), in one
   * transaction; false, and nothing recorded, when there is no such session of theirs (already ended).
   */
  endForUser(userId: string, sessionId: string, origin: RequestOrigin): Promise<boolean>;
  /** The live session for a cookie value, or null (unknown, idle too long, or past the absolute limit). */
  load(token: string): Promise<SessionRow | null>;
  /**
   * Log out: ends `userId`'s session named by the cookie `token` and records `account:logout` (`details`), in
   * one transaction; false, and nothing recorded, when that session had already ended (from another browser).
   */
  logOut(userId: string, token: string, origin: RequestOrigin, details?: Record<string, unknown>): Promise<boolean>;
  /**
   * Ends every session of `userId` ("log out everywhere") and records `account:sessions:revoked` with how many,
   * in one transaction; returns that number. Nothing else changes.
   */
  destroyAllForUser(userId: string, origin: RequestOrigin): Promise<number>;
  /** The session's password proof is now (the 5-minute window starts again); returns that time. */
  markAuthenticated(sessionId: string): Promise<number>;
  isRecentlyAuthenticated(session: SessionRow): boolean;
  setPendingTotpSecret(sessionId: string, secret: string | null): Promise<void>;
  pendingTotpSecret(session: SessionRow): string | null;
  /**
   * Keep a fresh set for its one showing; returns the one-time nonce the showing must present (the
   * redirect to the show page carries it), so a cross-site navigation cannot use the showing up.
   */
  setPendingRecoveryCodes(sessionId: string, codes: string[], options?: PendingShowingOccasion): Promise<string>;
  /**
   * The pending codes, once, when `nonce` is the one issued with them (constant-time compare); they are
   * cleared then. A wrong or missing nonce changes nothing and returns `'wrong-nonce'`; nothing pending, null.
   */
  takePendingRecoveryCodes(sessionId: string, nonce: unknown): Promise<PendingShowing | 'wrong-nonce' | null>;
  setFlash(sessionId: string, flash: Flash): Promise<void>;
  takeFlash(sessionId: string): Promise<Flash | null>;
}

/** What the session keeps (sealed) between generating recovery codes and their one showing. */
interface PendingRecoveryCodes {
  codes: unknown;
  nonce: unknown;
  firstTime?: unknown;
  allUsed?: unknown;
}

/** Why a set is shown, for the page's wording (both false: the user asked for a new set). */
export interface PendingShowingOccasion {
  /** The first set, made when the first second factor was added (the page then says 2FA is now on). */
  firstTime?: boolean;
  /** 2FA was already on but every code was used, so adding another factor made a new set (QA finding 7). */
  allUsed?: boolean;
}

/** A set of recovery codes on its one showing. */
export interface PendingShowing {
  codes: string[];
  firstTime: boolean;
  allUsed: boolean;
}

/** The session id stored in the database: SHA-256 of the cookie token (a DB dump yields no cookies). */
export function sessionIdFor(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The SQL type of each session column, for the session inserted from the user's row ({@link Sessions.create}):
 * a parameter in a SELECT list has no type of its own (PostgreSQL would take it as text).
 */
const COLUMN_TYPES = {
  id: 'text',
  user_id: 'text',
  created_at: 'bigint',
  last_seen_at: 'bigint',
  authenticated_at: 'bigint',
  pending_totp_secret_enc: 'text',
  pending_recovery_codes_enc: 'text',
  flash: 'text',
  user_agent: 'text',
  event_id: 'bigint',
} as const satisfies Record<keyof SessionRow, string>;

/**
 * `events` records the endings (a logout, one session ended, all of them) in the transaction that deletes the
 * sessions: an ending that happened is always in the history, and one in the history always happened.
 */
export function createSessions(db: Kysely<Database>, dataKey: Buffer, now: Clock, events: Events): Sessions {
  const byId = (id: string) => db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  const aad = (sessionId: string, what: string) => `session:${sessionId}:${what}`;

  let lastPurge = 0;

  return {
    async create(userId, start = {}, { within } = {}) {
      const executor = within ?? db;
      const token = randomBytes(32).toString('base64url');
      const time = now();
      if (time - lastPurge >= TOUCH_INTERVAL_MS) {
        // Expired sessions are dead weight (they are refused anyway); clear them at most once a minute.
        lastPurge = time;
        await executor
          .deleteFrom('sessions')
          .where((eb) => eb.or([eb('last_seen_at', '<', time - SESSION_IDLE_TIMEOUT_MS), eb('created_at', '<', time - SESSION_ABSOLUTE_TIMEOUT_MS)]))
          .execute();
      }
      const session: SessionRow = {
        id: sessionIdFor(token),
        user_id: userId,
        created_at: time,
        last_seen_at: time,
        authenticated_at: time,
        pending_totp_secret_enc: null,
        pending_recovery_codes_enc: null,
        flash: null,
        user_agent: start.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
        event_id: start.eventId ?? null,
      };
      const epoch = start.securityEpoch;
      if (epoch === undefined) {
        await executor.insertInto('sessions').values(session).execute();
        return { token, session };
      }
      // A password change or reset moves the epoch and then deletes the account's sessions, in one
      // transaction. A login that checked the old password (or a second factor, or a remembered device,
      // under the old epoch) and inserted its session after that DELETE would survive the change (QA: a
      // reset committing during the login's argon2 left the old password's holder logged in, on both
      // databases). So the session is inserted only from the user's row at that epoch, in one statement:
      // on SQLite it runs under the only write lock; on PostgreSQL the row is read FOR SHARE, which waits
      // for a change's uncommitted UPDATE and then re-checks the epoch on the row it committed (READ
      // COMMITTED) — and a change that comes later waits for this insert to commit, so its DELETE sees
      // this session and ends it. No row: no session.
      const columns = Object.keys(session) as (keyof SessionRow)[];
      const fromUserAtEpoch = executor
        .selectFrom('users')
        .select((eb) => columns.map((column) => eb.cast(eb.val(session[column]), COLUMN_TYPES[column]).as(column)))
        .where('id', '=', userId)
        .where('security_epoch', '=', epoch);
      const inserted = await executor
        .insertInto('sessions')
        .columns(columns)
        .expression(isPostgres(executor) ? fromUserAtEpoch.forShare() : fromUserAtEpoch)
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new LoginOutdated();
      return { token, session };
    },

    async load(token) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const session = await byId(sessionIdFor(token));
      if (!session) return null;
      const time = now();
      if (time - session.last_seen_at >= SESSION_IDLE_TIMEOUT_MS || time - session.created_at >= SESSION_ABSOLUTE_TIMEOUT_MS) {
        await db.deleteFrom('sessions').where('id', '=', session.id).execute();
        return null;
      }
      if (time - session.last_seen_at > TOUCH_INTERVAL_MS) {
        await db.updateTable('sessions').set({ last_seen_at: time }).where('id', '=', session.id).execute();
        session.last_seen_at = time;
      }
      return session;
    },

    logOut: (userId, token, origin, details) =>
      inTransaction(db, async (trx) => {
        const ended = await trx.deleteFrom('sessions').where('id', '=', sessionIdFor(token)).where('user_id', '=', userId).executeTakeFirst();
        if (Number(ended.numDeletedRows) !== 1) return false;
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.logout, origin, ...(details ? { details } : {}) });
        return true;
      }),

    async listForUser(userId) {
      const time = now();
      // The login's address tells two sessions of the same browser apart, and unlike the User-Agent it is
      // not a header the client writes (GitHub and Google list it too). Joined on the event's primary key, and
      // only to an event of the same account: an id that pointed elsewhere would show another account's
      // address. A left join: a session whose event is gone is still listed (its address as null).
      return db
        .selectFrom('sessions')
        .leftJoin('events', (join) => join.onRef('events.id', '=', 'sessions.event_id').onRef('events.user_id', '=', 'sessions.user_id'))
        .selectAll('sessions')
        .select('events.ip as login_ip')
        .where('sessions.user_id', '=', userId)
        .where('sessions.last_seen_at', '>', time - SESSION_IDLE_TIMEOUT_MS)
        .where('sessions.created_at', '>', time - SESSION_ABSOLUTE_TIMEOUT_MS)
        .orderBy('sessions.last_seen_at', 'desc')
        .orderBy('sessions.created_at', 'desc')
        .execute();
    },

    endForUser: (userId, sessionId, origin) =>
      inTransaction(db, async (trx) => {
        const ended = await trx.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).returning('user_agent').executeTakeFirst();
        if (!ended) return false;
        // The browser of the session that ended, as deleted: not as some earlier read of the list saw it.
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.sessionEnded, origin, details: { userAgent: ended.user_agent } });
        return true;
      }),

    destroyAllForUser: (userId, origin) =>
      inTransaction(db, async (trx) => {
        const result = await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
        const count = Number(result.numDeletedRows);
        await events.boundTo(trx).record({ userId, tag: EVENT_TAGS.sessionsRevoked, origin, details: { count } });
        return count;
      }),

    async markAuthenticated(sessionId) {
      const time = now();
      await db.updateTable('sessions').set({ authenticated_at: time }).where('id', '=', sessionId).execute();
      return time;
    },

    isRecentlyAuthenticated: (session) => now() - session.authenticated_at < REAUTH_WINDOW_MS,

    async setPendingTotpSecret(sessionId, secret) {
      const sealed = secret === null ? null : seal(dataKey, secret, aad(sessionId, 'totp'));
      await db.updateTable('sessions').set({ pending_totp_secret_enc: sealed }).where('id', '=', sessionId).execute();
    },

    pendingTotpSecret(session) {
      if (!session.pending_totp_secret_enc) return null;
      try {
        return open(dataKey, session.pending_totp_secret_enc, aad(session.id, 'totp'));
      } catch {
        return null;
      }
    },

    async setPendingRecoveryCodes(sessionId, codes, { firstTime = false, allUsed = false } = {}) {
      const nonce = randomBytes(16).toString('base64url');
      const pending: PendingRecoveryCodes = { codes, nonce, firstTime, allUsed };
      const sealed = seal(dataKey, JSON.stringify(pending), aad(sessionId, 'recovery-codes'));
      await db.updateTable('sessions').set({ pending_recovery_codes_enc: sealed }).where('id', '=', sessionId).execute();
      return nonce;
    },

    async takePendingRecoveryCodes(sessionId, nonce) {
      const session = await byId(sessionId);
      if (!session?.pending_recovery_codes_enc) return null;
      let pending: PendingRecoveryCodes;
      try {
        pending = JSON.parse(open(dataKey, session.pending_recovery_codes_enc, aad(sessionId, 'recovery-codes'))) as PendingRecoveryCodes;
      } catch {
        return null;
      }
      if (typeof nonce !== 'string' || typeof pending.nonce !== 'string' || !safeEqual(nonce, pending.nonce)) return 'wrong-nonce';
      // Clear only what we read, so two tabs cannot both show the codes.
      const cleared = await db
        .updateTable('sessions')
        .set({ pending_recovery_codes_enc: null })
        .where('id', '=', sessionId)
        .where('pending_recovery_codes_enc', '=', session.pending_recovery_codes_enc)
        .executeTakeFirst();
      if (Number(cleared.numUpdatedRows) !== 1) return null;
      if (!Array.isArray(pending.codes)) return null;
      return {
        codes: pending.codes.filter((code): code is string => typeof code === 'string'),
        firstTime: pending.firstTime === true,
        allUsed: pending.allUsed === true,
      };
    },

    async setFlash(sessionId, flash) {
      await db
        .updateTable('sessions')
        .set({ flash: JSON.stringify(flash) })
        .where('id', '=', sessionId)
        .execute();
    },

    async takeFlash(sessionId) {
      const session = await byId(sessionId);
      if (!session?.flash) return null;
      await db.updateTable('sessions').set({ flash: null }).where('id', '=', sessionId).execute();
      try {
        const flash = JSON.parse(session.flash) as Flash;
        return typeof flash.text === 'string' ? flash : null;
      } catch {
        return null;
      }
    },
  };
}
