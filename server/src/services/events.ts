import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Clock } from './clock.js';

/** Every security event the server records (shown as security history; admin CLI `events`). */
export const EVENT_TAGS = {
  accountCreated: 'account:create',
  loginSuccess: 'account:login:success',
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
  adminTwoFactorReset: 'admin:two_factor:reset',
  adminUserCreated: 'admin:account:create',
  webauthnSignCountRegression: 'account:webauthn:sign_count_regression',
  webauthnUsed: 'account:webauthn:used',
  /** Recorded by the password change (h13-account); mails the `password-changed` notice. */
  passwordChanged: 'account:password:changed',
  /** Recorded by the password reset (h13-account); mails the `password-reset` notice. */
  passwordReset: 'account:password:reset',
  emailAdded: 'account:email:added',
  emailVerified: 'account:email:verified',
  emailRemoved: 'account:email:removed',
  /** details `{from, to}`: the notice goes to the previous primary address. */
  primaryEmailChanged: 'account:email:primary_changed',
  recoveryCodesConfirmed: 'account:recovery_codes:confirmed',
  passwordResetRequested: 'account:password:reset:request',
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

export interface RecordedEvent {
  userId: string | null;
  tag: EventTag;
  origin: RequestOrigin;
  details?: Record<string, unknown>;
}

/**
 * Runs in the transaction that records an event, for tags it `handles`: the mail notices (services/mail/
 * security-notices.ts) queue their message there, so every recorded security event gets its mail and
 * neither exists without the other.
 */
export interface EventFollowUp {
  handles(tag: string): boolean;
  run(trx: Kysely<Database>, event: RecordedEvent & { details: Record<string, unknown>; createdAt: number }): Promise<void>;
}

export interface Events {
  /** Record one event; for tags with a follow-up (a mail notice), the event and its follow-up commit together. */
  record(input: RecordedEvent): Promise<void>;
  /** Newest first. */
  list(userId: string, options?: { limit?: number }): Promise<SecurityEvent[]>;
  /** The same events working in `trx`: record an event (and its notice) in the transaction that makes the change. */
  boundTo(trx: Kysely<Database>): Events;
}

const MAX_USER_AGENT = 512;

export function createEvents(db: Kysely<Database>, now: Clock, followUp?: EventFollowUp): Events {
  const insert = (into: Kysely<Database>, { userId, tag, origin }: RecordedEvent, details: Record<string, unknown>, createdAt: number) =>
    into
      .insertInto('events')
      .values({
        user_id: userId,
        tag,
        ip: origin.ip,
        user_agent: origin.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
        details: JSON.stringify(details),
        created_at: createdAt,
      })
      .execute();

  return {
    boundTo: (trx) => createEvents(trx, now, followUp),
    async record(input) {
      const details = input.details ?? {};
      const createdAt = now();
      // Most events (logins) have no follow-up: one statement, no transaction, as before.
      if (!followUp?.handles(input.tag)) return void (await insert(db, input, details, createdAt));
      await inTransaction(db, async (trx) => {
        await insert(trx, input, details, createdAt);
        await followUp.run(trx, { ...input, details, createdAt });
      });
    },
    async list(userId, { limit = 50 } = {}) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        userId: row.user_id,
        tag: row.tag,
        ip: row.ip,
        userAgent: row.user_agent,
        details: parseDetails(row.details),
        createdAt: row.created_at,
      }));
    },
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
