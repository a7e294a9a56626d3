import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { decodeSecretKey } from '../config.js';

/** Every purpose a key is derived for; one key per purpose, never reused across purposes. */
export type KeyPurpose =
  | 'login-token'
  | 'totp-secret'
  | 'recovery-code'
  | 'csrf'
  | 'remember-device'
  | 'session-data'
  | 'mail-body'
  | 'email-verify'
  | 'password-reset'
  | 'key-check'
  /** HMACs names people type (login names, e-mail addresses) into `rate_limits` keys (rate-limits.ts, request-limits.ts). */
  | 'rate-limit-subject';

/** Keys derived from LATCHKEY_SECRET_KEY by HKDF-SHA256 (RFC 5869), one per {@link KeyPurpose}. */
export type ServerKeys = Record<KeyPurpose, Buffer>;

const PURPOSES: readonly KeyPurpose[] = [
  'login-token',
  'totp-secret',
  'recovery-code',
  'csrf',
  'remember-device',
  'session-data',
  'mail-body',
  'email-verify',
  'password-reset',
  'key-check',
  'rate-limit-subject',
];

/** Derive the per-purpose 256-bit keys (ASVS V6.4.1: keys separated by purpose). */
export function deriveServerKeys(secretKey: string): ServerKeys {
  const ikm = decodeSecretKey(secretKey);
  const keys = {} as ServerKeys;
  for (const purpose of PURPOSES) {
    keys[purpose] = Buffer.from(hkdfSync('sha256', ikm, Buffer.from('latchkey'), Buffer.from(`latchkey/${purpose}/v1`), 32));
  }
  return keys;
}

/** HMAC-SHA256, base64url. */
export function hmac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}

/** Constant-time string comparison (ASVS V2.9.x / V3.x: no timing oracle on secrets). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
