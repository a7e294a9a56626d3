import { randomBytes } from 'node:crypto';
import type { User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { hmac, safeEqual } from './keys.js';

/** "Remember this device for 30 days". */
export const REMEMBER_DEVICE_MS = 30 * 24 * 60 * 60_000;

interface DevicePayload {
  u: string;
  e: number;
  x: number;
  /** Random per device, so two devices never carry the same value. */
  d: string;
}

/**
 * The per-device cookie value `base64url(JSON{u,e,x,d}).HMAC`: bound to one user and their security
 * epoch, so it dies when the password or 2FA changes, or when the user forgets remembered devices
 * (which bumps the epoch). Nothing is stored server-side.
 */
export interface RememberedDevices {
  issue(user: User): string;
  /** True when `cookieValue` remembers this device for `user` right now. */
  isRemembered(cookieValue: string | undefined, user: User): boolean;
  /** The device's random id when `cookieValue` remembers it for `user` right now, else null (password limits count per device). */
  deviceId(cookieValue: string | undefined, user: User): string | null;
}

export function createRememberedDevices(key: Buffer, now: Clock): RememberedDevices {
  const devices: RememberedDevices = {
    issue(user) {
      const payload: DevicePayload = { u: user.id, e: user.security_epoch, x: now() + REMEMBER_DEVICE_MS, d: randomBytes(9).toString('base64url') };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${hmac(key, body)}`;
    },
    isRemembered(cookieValue, user) {
      return devices.deviceId(cookieValue, user) !== null;
    },
    deviceId(cookieValue, user) {
      if (typeof cookieValue !== 'string' || cookieValue.length > 512) return null;
      const [body, mac] = cookieValue.split('.');
      if (!body || !mac || !safeEqual(mac, hmac(key, body))) return null;
      try {
        const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as DevicePayload;
        const live = payload.u === user.id && payload.e === user.security_epoch && typeof payload.x === 'number' && payload.x > now();
        return live && typeof payload.d === 'string' ? payload.d : null;
      } catch {
        return null;
      }
    },
  };
  return devices;
}
