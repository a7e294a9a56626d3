import type { AliasedExpression, ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { compiledOnce } from '../db/compiled-once.js';
import type { Database } from '../db/schema.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Clock } from './clock.js';

/** Every security event the server records (shown as security history; admin CLI `events`). */
export const EVENT_TAGS = {
  accountCreated: 'account:create',
  /** Recorded with the session it started, in one transaction (details.method); the session names it (`event_id`). */
  loginSuccess: 'account:login:success',
  /**
   * A login whose password and second factor (or remembered device) were accepted, refused its session because the
   * password or two-factor settings changed while it was under way (`LoginOutdated`, services/sessions.ts;
   * details.method). Nothing of its success was written: no session, no `account:login:success`, no recovery code used.
   */
  loginStopped: 'account:login:stopped',
  loginFailure: 'account:login:failure',
  /** A wrong second factor (details.method). The owner is told: security history, and a mail (notify once, then at most hourly). */
  secondFactorFailure: 'account:two_factor:failure',
  /** The year's TOTP guessing budget is spent: app codes refused until it rolls over or an admin resets 2FA. Mailed to the owner. */
  totpGuessBudgetSpent: 'account:two_factor:totp_locked',
  lockout: 'account:lockout',
  logout: 'account:logout',
  reauthenticateFailure: 'account:reauthenticate:failure',
  methodAdded: 'account:two_factor:method_added',
  methodRemoved: 'account:two_factor:method_removed',
  recoveryCodesGenerated: 'account:recovery_codes:generated',
  recoveryCodeUsed: 'account:recovery_codes:used',
  rememberedDevicesForgotten: 'account:remembered_devices:forgotten',
  sessionsRevoked: 'account:sessions:revoked',
  sessionEnded: 'account:session:ended',
  deviceRemembered: 'account:remembered_device:added',
  deviceForgotten: 'account:remembered_device:forgotten',
  webauthnRenamed: 'account:webauthn:renamed',
  adminTwoFactorReset: 'admin:two_factor:reset',
  adminUserCreated: 'admin:account:create',
  webauthnSignCountRegression: 'account:webauthn:sign_count_regression',
  webauthnUsed: 'account:webauthn:used',
  /** A new security key the logged-in owner presented was refused (its answer did not verify): not added (details.label). */
  webauthnRegistrationRefused: 'account:webauthn:registration_refused',
  /** Recorded by the password change (h13-account); mails the `password-changed` notice. */
  passwordChanged: 'account:password:changed',
  /** Recorded by the password reset (h13-account); mails the `password-reset` notice. */
  passwordReset: 'account:password:reset',
  emailAdded: 'account:email:added',
  emailVerified: 'account:email:verified',
  emailRemoved: 'account:email:removed',
  /**
   * Recorded only by migration 010 (its own frozen copy of this tag, `by: "migration"`, details.email: the account's
   * own row): another account had verified the same address, and kept it. Never mailed: 010 holds no mail key.
   */
  emailVerificationWithdrawn: 'account:email:verification_withdrawn',
  /** "Resend link": a new verification link (the older ones stop working) mailed to the address. */
  emailVerificationResent: 'account:email:verification_resent',
  /** details `{from, to}`: the notice goes to the previous primary address. */
  primaryEmailChanged: 'account:email:primary_changed',
  recoveryCodesConfirmed: 'account:recovery_codes:confirmed',
  /** A reset was asked for: a link mailed, or (details `{link: false}`) a notice without one to an unverified address. */
  passwordResetRequested: 'account:password:reset:request',
  /** The owner downloaded the account's data (its facts and whole security history). */
  dataExported: 'account:data:exported',
  /** The owner deleted the account. Kept without its user (details.username); mails the `account-deleted` notice. */
  accountDeleted: 'account:delete',
} as const;

export type EventTag = (typeof EVENT_TAGS)[keyof typeof EVENT_TAGS];

/** Where a request came from, recorded with each event. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export const NO_ORIGIN: RequestOrigin = { ip: null, userAgent: null };

export interface SecurityEvent {
  id: number;
  userId: string | null;
  tag: string;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  createdAt: number;
}

/** Security history pages hold this many events (the account page shows the first). */
export const HISTORY_PAGE_SIZE = 30;

export interface RecordedEvent {
  userId: string | null;
  tag: EventTag;
  origin: RequestOrigin;
  details?: Record<string, unknown>;
}

/**
 * What a follow-up reads in the statement that records the event (its RETURNING: subqueries that may use the
 * new row's columns, as `events.user_id`), so it needs no statement of its own to read it. `build` makes
 * the columns from stand-ins for `values` (the rules of db/compiled-once.ts); reads of one `kind` share
 * one `build`.
 */
export interface EventRead {
  kind: string;
  build(eb: ExpressionBuilder<Database, 'events'>, args: Record<string, unknown>): AliasedExpression<unknown, string>[];
  values: Record<string, unknown>;
}

/**
 * Runs in the transaction that records an event, for tags it `handles`: the mail notices (services/mail/
 * security-notices.ts) queue their message there, so every recorded security event gets its mail and
 * neither exists without the other.
 */
export interface EventFollowUp {
  handles(tag: string): boolean;
  /** What `run` needs read with the event's insert (null: nothing); `run` gets those columns by name. */
  read?(event: RecordedEvent & { details: Record<string, unknown> }): EventRead | null;
  run(
    trx: Kysely<Database>,
    event: RecordedEvent & { details: Record<string, unknown>; createdAt: number },
    read: Readonly<Record<string, unknown>>,
  ): Promise<void>;
}

export interface Events {
  /** Record one event and return its id; for tags with a follow-up (a mail notice), the event and its follow-up commit together. */
  record(input: RecordedEvent): Promise<number>;
  /** Newest first; `offset` skips that many of the newest (history pages). */
  list(userId: string, options?: { limit?: number; offset?: number }): Promise<SecurityEvent[]>;
  /**
   * At most `limit` of the user's events older than `before` (the last event of the previous page; null:
   * from the newest), in list()'s order. A keyset page: reading a long history page by page (the data
   * download) neither skips nor repeats an event when one is recorded meanwhile, as offsets would.
   */
  olderThan(userId: string, before: Pick<SecurityEvent, 'createdAt' | 'id'> | null, limit: number): Promise<SecurityEvent[]>;
  count(userId: string): Promise<number>;
  /**
   * For each of `ids` that is the user's event, how many of the user's events are newer (its place in the
   * history); ids that are not theirs are absent. One statement whatever the number of ids: the account
   * page asks for every listed session and remembered device at once.
   */
  placesOf(userId: string, ids: readonly number[]): Promise<Map<number, number>>;
  /**
   * The event that recorded the account's creation (by its owner or by an administrator): what the first
   * session of a registration names as its login (services/login.ts `startSession`).
   */
  creationEvent(userId: string): Promise<number | null>;
  /** The same events working in `trx`: record an event (and its notice) in the transaction that makes the change. */
  boundTo(trx: Kysely<Database>): Events;
}

const MAX_USER_AGENT = 512;

/**
 * Every security-relevant request records one: compiled once (db/compiled-once.ts), once per kind of
 * follow-up read (its values are the arguments prefixed `r:`).
 */
const insertEvent = compiledOnce(
  (
    db,
    args: { userId: string | null; tag: string; ip: string | null; userAgent: string | null; details: string; createdAt: number } & Record<string, unknown>,
    read: EventRead | null,
  ) => {
    const insert = db
      .insertInto('events')
      .values({ user_id: args.userId, tag: args.tag, ip: args.ip, user_agent: args.userAgent, details: args.details, created_at: args.createdAt });
    const withId = insert.returning('id');
    if (!read) return withId;
    const readArgs = new Proxy({}, { get: (_target, name) => args[`r:${String(name)}`] });
    // (Typed as the plain insert: the read's columns are returned by name, untyped, to the follow-up.)
    return insert.returning((eb) => [eb.ref('id').as('id'), ...read.build(eb, readArgs)]) as unknown as typeof withId;
  },
  (read) => read?.kind ?? '',
);

export function createEvents(db: Kysely<Database>, now: Clock, followUp?: EventFollowUp): Events {
  /** The history's one order: newest `created_at` first, then the highest id (events recorded in the same ms). */
  const newestFirst = (userId: string) => db.selectFrom('events').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc');
  /** The event's id, and the columns `read` asked for by name. */
  const insert = async (
    into: Kysely<Database>,
    { userId, tag, origin }: RecordedEvent,
    details: Record<string, unknown>,
    createdAt: number,
    read: EventRead | null = null,
  ) => {
    const args: Record<string, unknown> = {
      userId,
      tag,
      ip: origin.ip,
      userAgent: origin.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
      details: JSON.stringify(details),
      createdAt,
    };
    if (read) for (const [name, value] of Object.entries(read.values)) args[`r:${name}`] = value;
    const { rows } = await insertEvent(into, args as Parameters<typeof insertEvent>[1], read);
    const [row] = rows as (Record<string, unknown> & { id: number | string })[];
    if (!row) throw new Error('the event was not recorded');
    return { id: Number(row.id), read: row };
  };

  return {
    boundTo: (trx) => createEvents(trx, now, followUp),
    async record(input) {
      const details = input.details ?? {};
      const createdAt = now();
      // Most events (logins) have no follow-up: one statement, no transaction, as before.
      if (!followUp?.handles(input.tag)) return (await insert(db, input, details, createdAt)).id;
      return inTransaction(db, async (trx) => {
        const recorded = await insert(trx, input, details, createdAt, followUp.read?.({ ...input, details }) ?? null);
        await followUp.run(trx, { ...input, details, createdAt }, recorded.read);
        return recorded.id;
      });
    },
    async list(userId, { limit = 50, offset = 0 } = {}) {
      return (await newestFirst(userId).limit(limit).offset(offset).execute()).map(toSecurityEvent);
    },
    async olderThan(userId, before, limit) {
      let page = newestFirst(userId);
      if (before) {
        page = page.where((eb) =>
          eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]),
        );
      }
      return (await page.limit(limit).execute()).map(toSecurityEvent);
    },
    async count(userId) {
      const row = await db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async placesOf(userId, ids) {
      const places = new Map<number, number>();
      if (ids.length === 0) return places;
      // The same order as list(): newest created_at first, then highest id.
      const rows = await db
        .selectFrom('events as event')
        .select((eb) => [
          'event.id',
          eb
            .selectFrom('events as newer')
            .select((inner) => inner.fn.countAll<number | string>().as('n'))
            .whereRef('newer.user_id', '=', 'event.user_id')
            .where((inner) =>
              inner.or([
                inner('newer.created_at', '>', inner.ref('event.created_at')),
                inner.and([inner('newer.created_at', '=', inner.ref('event.created_at')), inner('newer.id', '>', inner.ref('event.id'))]),
              ]),
            )
            .as('newer'),
        ])
        .where('event.user_id', '=', userId)
        .where('event.id', 'in', [...new Set(ids)])
        .execute();
      for (const row of rows) places.set(Number(row.id), Number(row.newer));
      return places;
    },
    async creationEvent(userId) {
      const row = await db
        .selectFrom('events')
        .select('id')
        .where('user_id', '=', userId)
        .where('tag', 'in', [EVENT_TAGS.accountCreated, EVENT_TAGS.adminUserCreated])
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return row ? Number(row.id) : null;
    },
  };
}

/** An events row as the history and the admin CLI read it (details parsed; `{}` when they do not parse). */
export function toSecurityEvent(row: Selectable<Database['events']>): SecurityEvent {
  return {
    id: row.id,
    userId: row.user_id,
    tag: row.tag,
    ip: row.ip,
    userAgent: row.user_agent,
    details: parseDetails(row.details),
    createdAt: row.created_at,
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
