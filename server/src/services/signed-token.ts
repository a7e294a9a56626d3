import { hmac, safeEqual } from './keys.js';

/** Longest token accepted before any work is done on it. */
const MAX_TOKEN_LENGTH = 1024;

/** `base64url(JSON payload).HMAC-SHA256(key, that)`: tamper-evident, not secret (never put a secret inside). */
export function signToken(key: Buffer, payload: object): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${hmac(key, body)}`;
}

/**
 * The payload of a token made by {@link signToken} with `key`, or null when it is not one (wrong
 * signature, garbled, too long). The MAC is compared in constant time before the payload is parsed.
 */
export function verifySignedToken(key: Buffer, token: unknown): Record<string, unknown> | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined || !safeEqual(mac, hmac(key, body))) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
