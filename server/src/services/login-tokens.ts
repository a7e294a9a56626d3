import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { hmac, safeEqual } from './keys.js';

/** Lifetime of the two-factor token T issued after the password step. */
export const LOGIN_TOKEN_TTL_MS = 300_000;

export type LoginTokenProblem = 'malformed' | 'expired' | 'used' | 'stale';

export type LoginTokenResult = { ok: true; user: User } | { ok: false; problem: LoginTokenProblem };

/** What each problem means to a person (the page adds a "log in again" link). */
export const LOGIN_TOKEN_MESSAGES: Record<LoginTokenProblem, string> = {
  malformed: 'This login link is not valid. Please log in again.',
  expired: 'Your login has expired: the second step must be completed within 5 minutes. Please log in again.',
  used: 'This login link has already been used. Please log in again.',
  stale: 'Your account’s security settings changed since you entered your password. Please log in again.',
};

interface TokenPayload {
  /** nonce = login_tokens.id */
  n: string;
  u: string;
  e: number;
  t: number;
}

/**
 * The two-factor token T: `base64url(JSON{n,u,e,t}).HMAC`. The HMAC (key derived from the secret key)
 * makes it unforgeable; it binds the user id, the user's security epoch and the issue time; the
 * nonce row in `login_tokens` makes it single-use — deleting that row is the atomic "burn" when a
 * session is created, so a captured T is useless afterwards.
 */
export interface LoginTokens {
  issue(user: User): Promise<string>;
  /** Check T without using it up (to show the page, or before checking a code). */
  inspect(token: unknown): Promise<LoginTokenResult>;
  /** Use T up. Exactly one caller wins per token, across instances. */
  consume(token: unknown): Promise<LoginTokenResult>;
}

export function createLoginTokens(db: Kysely<Database>, key: Buffer, now: Clock): LoginTokens {
  const verify = async (token: unknown): Promise<{ ok: true; payload: TokenPayload; user: User } | { ok: false; problem: LoginTokenProblem }> => {
    if (typeof token !== 'string' || token.length > 512) return { ok: false, problem: 'malformed' };
    const [body, mac] = token.split('.');
    if (!body || !mac || !safeEqual(mac, hmac(key, body))) return { ok: false, problem: 'malformed' };
    let payload: TokenPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    } catch {
      return { ok: false, problem: 'malformed' };
    }
    if (typeof payload.n !== 'string' || typeof payload.u !== 'string' || typeof payload.t !== 'number') {
      return { ok: false, problem: 'malformed' };
    }
    if (now() - payload.t >= LOGIN_TOKEN_TTL_MS || payload.t > now() + 60_000) return { ok: false, problem: 'expired' };
    const user = await db.selectFrom('users').selectAll().where('id', '=', payload.u).executeTakeFirst();
    if (!user) return { ok: false, problem: 'malformed' };
    if (user.security_epoch !== payload.e) return { ok: false, problem: 'stale' };
    return { ok: true, payload, user };
  };

  return {
    async issue(user) {
      const time = now();
      const nonce = randomBytes(16).toString('base64url');
      // Housekeeping: expired nonces are worthless; keep the table small.
      await db.deleteFrom('login_tokens').where('expires_at', '<=', time).execute();
      await db.insertInto('login_tokens').values({ id: nonce, user_id: user.id, expires_at: time + LOGIN_TOKEN_TTL_MS }).execute();
      const payload: TokenPayload = { n: nonce, u: user.id, e: user.security_epoch, t: time };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${hmac(key, body)}`;
    },

    async inspect(token) {
      const checked = await verify(token);
      if (!checked.ok) return checked;
      const row = await db
        .selectFrom('login_tokens')
        .select('id')
        .where('id', '=', checked.payload.n)
        .where('user_id', '=', checked.user.id)
        .executeTakeFirst();
      return row ? { ok: true, user: checked.user } : { ok: false, problem: 'used' };
    },

    async consume(token) {
      const checked = await verify(token);
      if (!checked.ok) return checked;
      const burned = await db
        .deleteFrom('login_tokens')
        .where('id', '=', checked.payload.n)
        .where('user_id', '=', checked.user.id)
        .where('expires_at', '>', now())
        .executeTakeFirst();
      return Number(burned.numDeletedRows) === 1 ? { ok: true, user: checked.user } : { ok: false, problem: 'used' };
    },
  };
}
