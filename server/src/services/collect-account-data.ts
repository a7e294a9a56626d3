import type { User } from '../db/schema.js';
import type { SecurityEvent } from './events.js';
import type { Services } from './index.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** One security event as the account's owner sees it in their history: no internal details. */
export interface AccountDataEvent {
  at: string;
  /** The event's tag (`account:login:success`, …). */
  event: string;
  /** The history page's sentence for it. */
  description: string;
  ip: string | null;
  userAgent: string | null;
}

/** Everything the index holds about an account that its owner may read, as a download (ASVS V8.3.2). */
export interface AccountData {
  format: 'latchkey-account-data';
  version: 1;
  exportedAt: string;
  account: { username: string; createdAt: string; passwordChangedAt: string };
  emailAddresses: Array<{ email: string; primary: boolean; verifiedAt: string | null }>;
  twoFactor: {
    authenticationApp: { enabledAt: string } | null;
    securityKeys: Array<{ name: string; addedAt: string; lastUsedAt: string | null }>;
    recoveryCodesLeft: number;
  };
  sessions: Array<{ userAgent: string | null; loggedInAt: string; lastActiveAt: string }>;
  rememberedDevices: Array<{ userAgent: string | null; rememberedAt: string; lastUsedAt: string; expiresAt: string }>;
  /** Every event, newest first: the whole history, not the account page's first 30. */
  securityHistory: AccountDataEvent[];
}

/**
 * What an account's owner can download about it: the account page's facts and the whole security history.
 * Never a secret or what stands for one — no password hash, TOTP secret, recovery codes, key material,
 * session or device tokens — and of each event only what the history page shows (its `details` can hold
 * what is not the owner's, such as the administrator who reset their 2FA).
 */
export async function collectAccountData(
  services: Pick<Services, 'accounts' | 'emails' | 'sessions' | 'rememberedDevices' | 'events' | 'now'>,
  user: User,
  /** The history page's sentence for an event (views/event-labels.ts): the file says what the page says. */
  describe: (event: SecurityEvent) => string,
): Promise<AccountData> {
  const [status, keys, addresses, sessions, devices, events] = await Promise.all([
    services.accounts.twoFactorStatus(user.id),
    services.accounts.securityKeys(user.id),
    services.emails.list(user.id),
    services.sessions.listForUser(user.id),
    services.rememberedDevices.list(user),
    // One read of them all: a count first, then that many, could drop the oldest when one is recorded between.
    services.events.list(user.id, { limit: null }),
  ]);
  return {
    format: 'latchkey-account-data',
    version: 1,
    exportedAt: iso(services.now()),
    account: { username: user.username, createdAt: iso(user.created_at), passwordChangedAt: iso(user.password_changed_at) },
    emailAddresses: addresses.map((address) => ({ email: address.email, primary: address.primary, verifiedAt: isoOrNull(address.verifiedAt) })),
    twoFactor: {
      authenticationApp: status.hasTotp && user.totp_enabled_at !== null ? { enabledAt: iso(user.totp_enabled_at) } : null,
      securityKeys: keys.map((key) => ({ name: key.label, addedAt: iso(key.createdAt), lastUsedAt: isoOrNull(key.lastUsedAt) })),
      recoveryCodesLeft: status.recoveryCodesRemaining,
    },
    sessions: sessions.map((row) => ({ userAgent: row.user_agent ?? null, loggedInAt: iso(row.created_at), lastActiveAt: iso(row.last_seen_at) })),
    rememberedDevices: devices.map((device) => ({
      userAgent: device.userAgent,
      rememberedAt: iso(device.createdAt),
      lastUsedAt: iso(device.lastUsedAt),
      expiresAt: iso(device.expiresAt),
    })),
    securityHistory: events.map((event) => ({
      at: iso(event.createdAt),
      event: event.tag,
      description: describe(event),
      ip: event.ip,
      userAgent: event.userAgent,
    })),
  };
}
