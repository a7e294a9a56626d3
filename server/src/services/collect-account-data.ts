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

/** Events read (and written out) at a time: a long history never sits in memory whole or holds the event loop. */
export const ACCOUNT_DATA_EVENTS_PER_PAGE = 500;

/** The download: when it was taken, and the file's text in pieces (the JSON of {@link AccountData}). */
export interface AccountDataDownload {
  exportedAt: number;
  text: AsyncGenerator<string>;
}

/**
 * What an account's owner can download about it: the account page's facts and the whole security history.
 * Never a secret or what stands for one — no password hash, TOTP secret, recovery codes, key material,
 * session or device tokens — and of each event only what the history page shows (its `details` can hold
 * what is not the owner's, such as the administrator who reset their 2FA).
 *
 * The history is read {@link ACCOUNT_DATA_EVENTS_PER_PAGE} events at a time, newest first, by keyset
 * (events.olderThan): an account's history has no bound (a stranger's wrong passwords add to it every day),
 * and read whole it took 141 MB and held SQLite 2.3 s for 200 000 events. Events recorded while the file is
 * written are newer than its first page, so the file is the history as it stood when the download began.
 * The text is exactly `JSON.stringify(data, null, 2)` and a newline.
 */
export async function collectAccountData(
  services: Pick<Services, 'accounts' | 'emails' | 'sessions' | 'rememberedDevices' | 'events' | 'now'>,
  user: User,
  /** The history page's sentence for an event (views/event-labels.ts): the file says what the page says. */
  describe: (event: SecurityEvent) => string,
): Promise<AccountDataDownload> {
  const [status, keys, addresses, sessions, devices, firstPage] = await Promise.all([
    services.accounts.twoFactorStatus(user.id),
    services.accounts.securityKeys(user.id),
    services.emails.list(user.id),
    services.sessions.listForUser(user.id),
    services.rememberedDevices.list(user),
    services.events.olderThan(user.id, null, ACCOUNT_DATA_EVENTS_PER_PAGE),
  ]);
  const exportedAt = services.now();
  const head: Omit<AccountData, 'securityHistory'> = {
    format: 'latchkey-account-data',
    version: 1,
    exportedAt: iso(exportedAt),
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
  };
  const toFileEvent = (event: SecurityEvent): AccountDataEvent => ({
    at: iso(event.createdAt),
    event: event.tag,
    description: describe(event),
    ip: event.ip,
    userAgent: event.userAgent,
  });
  async function* pages(): AsyncGenerator<SecurityEvent[]> {
    let page = firstPage;
    while (page.length > 0) {
      yield page;
      if (page.length < ACCOUNT_DATA_EVENTS_PER_PAGE) return;
      page = await services.events.olderThan(user.id, page.at(-1)!, ACCOUNT_DATA_EVENTS_PER_PAGE);
    }
  }
  return { exportedAt, text: jsonText(head, pages(), toFileEvent) };
}

/** `JSON.stringify({...head, securityHistory}, null, 2)` and a newline, written as the history's pages arrive. */
async function* jsonText(
  head: Omit<AccountData, 'securityHistory'>,
  pages: AsyncGenerator<SecurityEvent[]>,
  toFileEvent: (event: SecurityEvent) => AccountDataEvent,
): AsyncGenerator<string> {
  const opening = JSON.stringify({ ...head, securityHistory: [] }, null, 2);
  const empty = '[]\n}';
  yield opening.slice(0, -empty.length);
  let separator = '[';
  for await (const page of pages) {
    let text = '';
    for (const event of page) {
      text += `${separator}\n    ${JSON.stringify(toFileEvent(event), null, 2).replaceAll('\n', '\n    ')}`;
      separator = ',';
    }
    yield text;
  }
  yield separator === '[' ? `${empty}\n` : '\n  ]\n}\n';
}
