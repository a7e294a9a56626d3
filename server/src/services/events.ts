import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
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

export interface Events {
  record(input: { userId: string | null; tag: EventTag; origin: RequestOrigin; details?: Record<string, unknown> }): Promise<void>;
  /** Newest first. */
  list(userId: string, options?: { limit?: number }): Promise<SecurityEvent[]>;
}

const MAX_USER_AGENT = 512;

export function createEvents(db: Kysely<Database>, now: Clock): Events {
  return {
    async record({ userId, tag, origin, details = {} }) {
      await db
        .insertInto('events')
        .values({
          user_id: userId,
          tag,
          ip: origin.ip,
          user_agent: origin.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
          details: JSON.stringify(details),
          created_at: now(),
        })
        .execute();
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
