import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';
import { inTransaction } from '../db/in-transaction.js';
import { bumpSecurityEpoch } from './bump-security-epoch.js';
import type { Clock } from './clock.js';
import { EVENT_TAGS, type Events, type RequestOrigin } from './events.js';
import { hmac, safeEqual } from './keys.js';

/** "Remember this device for 30 days". */
export const REMEMBER_DEVICE_MS = 30 * 24 * 60 * 60_000;

interface DevicePayload {
  u: string;
  e: number;
  x: number;
  /** Random per device, so two devices never carry the same value; its SHA-256 names the device's row. */
  d: string;
}

/** A remembered browser as the account page lists it. */
export interface RememberedDevice {
  /** The row id (SHA-256 of the cookie's random device id: the cookie cannot be rebuilt from it). */
  id: string;
  userAgent: string | null;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  /** The security-history event that recorded remembering it. */
  eventId: number | null;
  /**
   * The address recorded with that event (the login that remembered the device), as the security
   * history shows it; null when the device has no such event, the event is gone or recorded no address.
   */
  address: string | null;
  /** True for the browser asking (the cookie it sent names this device). */
  current: boolean;
}

/**
 * The per-device cookie value `base64url(JSON{u,e,x,d}).HMAC`: bound to one user and their security
 * epoch, so it dies when the password or 2FA changes, or when the user forgets remembered devices
 * (which bumps the epoch). Each device also has a row, so one device can be forgotten on its own and
 * the account page can list them (browser, remembered, last used).
 */
export interface RememberedDevices {
  /** Remembers this browser for `user` (a row and a security event); returns the cookie value. */
  issue(user: User, origin: RequestOrigin): Promise<string>;
  /** True when `cookieValue` remembers this device for `user` right now; records the use. */
  isRemembered(cookieValue: string | undefined, user: User): Promise<boolean>;
  /**
   * The user's remembered devices that still skip the second factor, most recently used first, each
   * with the address of the event that remembered it — read in the same statement (a join), not once
   * per device.
   */
  list(user: User, currentCookie?: string): Promise<RememberedDevice[]>;
  /** Forgets one device of `user` and records it; false when there is no such remembered device. */
  forget(user: User, id: string, origin: RequestOrigin): Promise<boolean>;
  /**
   * Forget every remembered device of `user` ("Forget remembered devices"): their cookies are bound to the
   * security epoch, so moving it ends them all at once. The move and its event commit together: a forget
   * that happened is always in the history, and one in the history always happened.
   */
  forgetAll(user: User, origin: RequestOrigin): Promise<void>;
  /**
   * The device's random id when `cookieValue` is a valid, unexpired cookie for `user` (signature, user,
   * epoch), else null — password limits count per device. It does not look for the device's row: a
   * device forgotten on its own keeps its own limit bucket, it only no longer skips the second factor.
   */
  deviceId(cookieValue: string | undefined, user: User): string | null;
}

const rowId = (deviceId: string) => createHash('sha256').update(deviceId).digest('base64url');

/**
 * `events` records each change in the transaction that makes it, through `events.boundTo(trx)` as every
 * service does: a tag given a follow-up (a notice mail, services/mail/security-notices.ts) then runs it in
 * that transaction too. Events made here from the bare transaction had no follow-up, so such a notice
 * would have been skipped without a word. (No remembered-device tag is mailed today: remembering needs
 * the password and a second factor, and forgetting only takes a skip away.)
 */
export function createRememberedDevices(db: Kysely<Database>, key: Buffer, now: Clock, events: Events): RememberedDevices {
  /** The random device id in the cookie, when its signature, user, epoch and expiry all hold. */
  const deviceId = (cookieValue: string | undefined, user: User): string | null => {
    if (typeof cookieValue !== 'string' || cookieValue.length > 512) return null;
    // Exactly `body.mac`: `body.mac.anything` used to pass too (the tail was ignored), so one cookie had
    // endless spellings that all skipped the second factor.
    const parts = cookieValue.split('.');
    if (parts.length !== 2) return null;
    const [body, mac] = parts as [string, string];
    if (!body || !mac || !safeEqual(mac, hmac(key, body))) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as DevicePayload;
      const valid =
        payload.u === user.id && payload.e === user.security_epoch && typeof payload.x === 'number' && payload.x > now() && typeof payload.d === 'string';
      return valid ? payload.d : null;
    } catch {
      return null;
    }
  };
  /** The row id the cookie names (see {@link deviceId}). */
  const verifiedRowId = (cookieValue: string | undefined, user: User): string | null => {
    const id = deviceId(cookieValue, user);
    return id === null ? null : rowId(id);
  };

  return {
    deviceId,

    async issue(user, origin) {
      const time = now();
      const payload: DevicePayload = { u: user.id, e: user.security_epoch, x: time + REMEMBER_DEVICE_MS, d: randomBytes(16).toString('base64url') };
      await inTransaction(db, async (trx) => {
        // Rows that can no longer skip anything (expired, or from before a password/2FA change) go first.
        await trx
          .deleteFrom('remembered_devices')
          .where('user_id', '=', user.id)
          .where((eb) => eb.or([eb('expires_at', '<=', time), eb('security_epoch', '!=', user.security_epoch)]))
          .execute();
        const eventId = await events.boundTo(trx).record({ userId: user.id, tag: EVENT_TAGS.deviceRemembered, origin });
        await trx
          .insertInto('remembered_devices')
          .values({
            id: rowId(payload.d),
            user_id: user.id,
            security_epoch: user.security_epoch,
            user_agent: origin.userAgent?.slice(0, 512) ?? null,
            event_id: eventId,
            created_at: time,
            last_used_at: time,
            expires_at: payload.x,
          })
          .execute();
      });
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${hmac(key, body)}`;
    },

    async isRemembered(cookieValue, user) {
      const id = verifiedRowId(cookieValue, user);
      if (id === null) return false;
      const result = await db
        .updateTable('remembered_devices')
        .set({ last_used_at: now() })
        .where('id', '=', id)
        .where('user_id', '=', user.id)
        .where('security_epoch', '=', user.security_epoch)
        .where('expires_at', '>', now())
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async list(user, currentCookie) {
      const current = verifiedRowId(currentCookie, user);
      // The address tells two devices of the same browser type apart, and unlike the User-Agent it is not
      // a header the client writes. Joined on the event's primary key, and only to an event of the same
      // account: an id that pointed elsewhere would show another account's address. A left join: a device
      // whose event is gone is still listed (its address as null), as it still skips the second factor.
      const rows = await db
        .selectFrom('remembered_devices')
        .leftJoin('events', (join) => join.onRef('events.id', '=', 'remembered_devices.event_id').onRef('events.user_id', '=', 'remembered_devices.user_id'))
        .selectAll('remembered_devices')
        .select('events.ip as login_ip')
        .where('remembered_devices.user_id', '=', user.id)
        .where('remembered_devices.security_epoch', '=', user.security_epoch)
        .where('remembered_devices.expires_at', '>', now())
        .orderBy('remembered_devices.last_used_at', 'desc')
        .orderBy('remembered_devices.created_at', 'desc')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        userAgent: row.user_agent,
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at,
        expiresAt: row.expires_at,
        eventId: row.event_id === null ? null : Number(row.event_id),
        address: row.login_ip,
        current: row.id === current,
      }));
    },

    async forgetAll(user, origin) {
      await inTransaction(db, async (trx) => {
        await bumpSecurityEpoch(trx, user.id);
        await events.boundTo(trx).record({ userId: user.id, tag: EVENT_TAGS.rememberedDevicesForgotten, origin });
      });
    },

    async forget(user, id, origin) {
      return inTransaction(db, async (trx) => {
        const row = await trx
          .deleteFrom('remembered_devices')
          .where('id', '=', id)
          .where('user_id', '=', user.id)
          .returning(['user_agent', 'security_epoch', 'expires_at'])
          .executeTakeFirst();
        // A stale row (older epoch, expired) skipped nothing any more: deleting it is tidying, not an event.
        if (!row || row.security_epoch !== user.security_epoch || row.expires_at <= now()) return false;
        await events.boundTo(trx).record({ userId: user.id, tag: EVENT_TAGS.deviceForgotten, origin, details: { userAgent: row.user_agent } });
        return true;
      });
    },
  };
}
