import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { compiledOnce } from '../db/compiled-once.js';
import { isPostgres } from '../db/dialect.js';
import { inTransaction } from '../db/in-transaction.js';
import type { Database, User } from '../db/schema.js';
import type { Clock } from './clock.js';
import { hmac, safeEqual } from './keys.js';
import type { CounterRowsPart, CounterRowsQuery, CounterValue } from './rate-limit-counters.js';

/** Lifetime of the two-factor token T issued after the password step. */
export const LOGIN_TOKEN_TTL_MS = 300_000;

const PURGE_INTERVAL_MS = 60_000;

export type LoginTokenProblem = 'malformed' | 'expired' | 'used' | 'stale';

export type LoginTokenResult = { ok: true; user: User } | { ok: false; problem: LoginTokenProblem };

/** {@link LoginTokens.inspect}'s answer: an accepted T also says the factors it was issued with (see {@link LoginTokens.methods}). */
export type InspectedLoginToken = { ok: true; user: User; methods: SecondStepMethods | null } | { ok: false; problem: LoginTokenProblem };

/**
 * {@link LoginTokens.asCounterRow}'s answer: T's signature and age are checked (no database); what is left
 * to check, its nonce and its account's security epoch, is a counter-shaped row for another statement to read.
 */
export type LoginTokenRow =
  | { ok: false; problem: LoginTokenProblem }
  | {
      ok: true;
      userId: string;
      /** The factors T carries (see {@link LoginTokens.methods}). */
      methods: SecondStepMethods | null;
      key: string;
      part: CounterRowsPart;
      /** What the row read under `key` says: null when T is good, else why not. */
      problemFrom(row: CounterValue | undefined): LoginTokenProblem | null;
    };

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
  /** The second factors the account had when T was issued (bit 1: TOTP, bit 2: security key); see {@link LoginTokens.methods}. */
  m?: number;
}

/** Which second factors the second-step page offers. */
export interface SecondStepMethods {
  hasTotp: boolean;
  hasSecurityKey: boolean;
}

/**
 * The two-factor token T: `base64url(JSON{n,u,e,t}).HMAC`. The HMAC (key derived from the secret key)
 * makes it unforgeable; it binds the user id, the user's security epoch and the issue time; the
 * nonce row in `login_tokens` makes it single-use — deleting that row is the atomic "burn" when a
 * session is created, so a captured T is useless afterwards.
 */
export interface LoginTokens {
  /** A token for `user`'s second step; `methods` (the account's factors now) lets the page skip reading them. */
  issue(user: User, methods?: SecondStepMethods): Promise<string>;
  /**
   * The factors T was issued with, read from its signed payload (no database), or null if T does not say
   * (issued without them) or is not a valid token. Adding or removing a factor moves the security epoch, which
   * makes T stale, so for a T that {@link LoginTokens.inspect} accepts these are the account's factors now.
   */
  methods(token: unknown): SecondStepMethods | null;
  /** Check T without using it up (before checking a code); with the account's row and the factors T carries. */
  inspect(token: unknown): Promise<InspectedLoginToken>;
  /**
   * Check T without using it up and without reading its account: the nonce and the security epoch as a
   * counter-shaped row (`window_start` = the epoch, `failures` = 1 while the nonce is unused), so the
   * second-step page reads them in the statement that reads its locks (one statement, one round trip).
   */
  asCounterRow(token: unknown): LoginTokenRow;
  /**
   * Use T up. Exactly one caller wins per token, across instances. `options.within` runs the burn in the
   * caller's open transaction, so it commits with what the caller wrote there (the TOTP step the code
   * spent: see `Totp.verify`), never on its own.
   */
  consume(token: unknown, options?: { within?: Kysely<Database> }): Promise<LoginTokenResult>;
}

function methodsOf(payload: TokenPayload): SecondStepMethods | null {
  if (typeof payload.m !== 'number') return null;
  return { hasTotp: (payload.m & 1) !== 0, hasSecurityKey: (payload.m & 2) !== 0 };
}

/** The one rule for what the database says about a well-signed T: its account, then its epoch, then its nonce. */
function problemOf(payload: TokenPayload, found: { epoch: number; nonceKept: boolean } | null): LoginTokenProblem | null {
  if (!found) return 'malformed';
  // A factor changed since T was issued (the epoch moved): T is stale.
  if (found.epoch !== payload.e) return 'stale';
  return found.nonceKept ? null : 'used';
}

/** {@link LoginTokens.asCounterRow}'s query: one row always (an aggregate), the epoch -1 when the account is gone. */
const nonceAsCounterRow = (db: Kysely<Database>, args: Record<string, unknown>): CounterRowsQuery =>
  db
    .selectFrom('users')
    .leftJoin('login_tokens', (join) => join.on('login_tokens.id', '=', args.nonce as string).onRef('login_tokens.user_id', '=', 'users.id'))
    .select((eb) => [
      sql<string>`cast(${args.key} as text)`.as('key'),
      eb.fn.coalesce(eb.fn.max('users.security_epoch'), sql.lit(-1)).$castTo<number>().as('window_start'),
      eb.fn.count<number>('login_tokens.id').as('failures'),
    ])
    .where('users.id', '=', args.userId as string) as unknown as CounterRowsQuery;
// (As totp-guess-budget.ts's row: Kysely types the select by the tables it reads; the row shape is the counters'.)

// The statements below run on every second-step request: compiled once (db/compiled-once.ts).
const insertNonce = compiledOnce((db, args: { nonce: string; userId: string; expiresAt: number }) =>
  db.insertInto('login_tokens').values({ id: args.nonce, user_id: args.userId, expires_at: args.expiresAt }),
);
/** PostgreSQL: FOR SHARE, see consume. */
const readUserForBurn = compiledOnce((db, args: { userId: string }) => {
  const read = db.selectFrom('users').selectAll().where('id', '=', args.userId);
  return isPostgres(db) ? read.forShare() : read;
});
const burnNonce = compiledOnce((db, args: { nonce: string; userId: string; now: number }) =>
  db.deleteFrom('login_tokens').where('id', '=', args.nonce).where('user_id', '=', args.userId).where('expires_at', '>', args.now),
);
const findUserWithNonce = compiledOnce((db, args: { nonce: string; userId: string }) =>
  db
    .selectFrom('users')
    .leftJoin('login_tokens', (join) => join.on('login_tokens.id', '=', args.nonce).onRef('login_tokens.user_id', '=', 'users.id'))
    .selectAll('users')
    .select('login_tokens.id as login_token_id')
    .where('users.id', '=', args.userId),
);

export function createLoginTokens(db: Kysely<Database>, key: Buffer, now: Clock): LoginTokens {
  /** The signed payload, or why T is not acceptable before any database read. */
  const parse = (token: unknown): { ok: true; payload: TokenPayload } | { ok: false; problem: LoginTokenProblem } => {
    if (typeof token !== 'string' || token.length > 512) return { ok: false, problem: 'malformed' };
    // Exactly `body.mac`: a tail after the signature used to be ignored, so one login had endless spellings
    // (as the remembered-device cookie had); a login's security-key challenge is bound to T as issued.
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined || !safeEqual(mac, hmac(key, body))) return { ok: false, problem: 'malformed' };
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
    return { ok: true, payload };
  };

  let lastPurge = 0;

  return {
    async issue(user, methods) {
      const time = now();
      const nonce = randomBytes(16).toString('base64url');
      // Housekeeping, at most once a minute: expired nonces are worthless; keep the table small.
      if (time - lastPurge >= PURGE_INTERVAL_MS) {
        lastPurge = time;
        await db.deleteFrom('login_tokens').where('expires_at', '<=', time).execute();
      }
      await insertNonce(db, { nonce, userId: user.id, expiresAt: time + LOGIN_TOKEN_TTL_MS });
      const payload: TokenPayload = { n: nonce, u: user.id, e: user.security_epoch, t: time };
      if (methods) payload.m = (methods.hasTotp ? 1 : 0) | (methods.hasSecurityKey ? 2 : 0);
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${hmac(key, body)}`;
    },

    methods(token) {
      const parsed = parse(token);
      return parsed.ok ? methodsOf(parsed.payload) : null;
    },

    async inspect(token) {
      const parsed = parse(token);
      if (!parsed.ok) return parsed;
      // The user and T's nonce row in one statement: this runs on every second-step request.
      const [row] = (await findUserWithNonce(db, { nonce: parsed.payload.n, userId: parsed.payload.u })).rows;
      if (!row) return { ok: false, problem: 'malformed' };
      const { login_token_id: nonce, ...user } = row;
      const problem = problemOf(parsed.payload, { epoch: user.security_epoch, nonceKept: nonce !== null });
      return problem ? { ok: false, problem } : { ok: true, user, methods: methodsOf(parsed.payload) };
    },

    asCounterRow(token) {
      const parsed = parse(token);
      if (!parsed.ok) return parsed;
      const { payload } = parsed;
      const key = `login-token:${payload.n}`;
      return {
        ok: true,
        userId: payload.u,
        methods: methodsOf(payload),
        key,
        part: { kind: 'login-token', build: nonceAsCounterRow, values: { key, nonce: payload.n, userId: payload.u } },
        problemFrom: (row) => problemOf(payload, row && row.windowStart >= 0 ? { epoch: row.windowStart, nonceKept: row.count > 0 } : null),
      };
    },

    async consume(token, options = {}) {
      const parsed = parse(token);
      if (!parsed.ok) return parsed;
      // One transaction holding the user's row: a factor change (which moves the epoch with an UPDATE of
      // that row) lands either wholly before — T is then stale — or after T is burned, never between the
      // epoch check and the burn (issue 14 point 7). PostgreSQL: FOR SHARE blocks the change's UPDATE until
      // commit, and a read that waited sees the changed row. SQLite: a transaction holds the only connection.
      return inTransaction(options.within ?? db, async (trx) => {
        const [user] = (await readUserForBurn(trx, { userId: parsed.payload.u })).rows;
        if (!user) return { ok: false, problem: 'malformed' } as const;
        if (user.security_epoch !== parsed.payload.e) return { ok: false, problem: 'stale' } as const;
        const burned = await burnNonce(trx, { nonce: parsed.payload.n, userId: user.id, now: now() });
        return Number(burned.numAffectedRows) === 1 ? ({ ok: true, user } as const) : ({ ok: false, problem: 'used' } as const);
      });
    },
  };
}
