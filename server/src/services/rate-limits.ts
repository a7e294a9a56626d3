import { type Kysely, sql } from 'kysely';
import type { RateLimitConfig, RateLimitRule } from '../config.js';
import type { Database } from '../db/schema.js';
import { addressBlock } from './address-block.js';
import type { Clock } from './clock.js';
import { hmac } from './keys.js';
import {
  byKey,
  type CounterRowsPart,
  type CounterValue,
  counterPurger,
  incrementCounters,
  readCounters,
  worstCounter,
  writeCounters,
} from './rate-limit-counters.js';
import { tryAgainIn } from './request-limits.js';

/**
 * What is being limited: the password step of a login, any second factor (TOTP, recovery code,
 * security key), or the password asked again inside a live session before a security change.
 */
export type RateLimitScope = 'password' | 'second-factor' | 'reauthenticate';

/** Who a failure is counted against. */
export interface RateLimitSubject {
  /** `password`: the login name as typed, canonical (trimmed, lower case); `second-factor`: the user id; `reauthenticate`: the session id. */
  account: string;
  /** The client address (IPv6 is counted per /64, see address-block.ts). */
  ip: string | null;
  /**
   * Password step only: the random id of the remembered device this request carries for `account`
   * (a cookie only the owner's browser has; see remembered-devices.ts), when it carries one.
   */
  device?: string | null;
}

export type RateLimitVerdict = { blocked: false } | { blocked: true; retryAfterMs: number; reason: 'account' | 'ip' };

/** An attempt that was counted and may go ahead. */
export interface AllowedAttempt {
  blocked: false;
  /** If this attempt fails, the account (or IP) is locked out: the caller shows the lock-out and records it. */
  lastAllowed: false | { retryAfterMs: number; reason: 'account' | 'ip' };
  /** Failures still allowed after this one before a lock starts (for the "N attempts left" hint). */
  remaining: number;
  /** How long that lock would last. */
  pauseMs: number;
}

export type AttemptVerdict = AllowedAttempt | Extract<RateLimitVerdict, { blocked: true }>;

export interface RateLimits {
  /** Is this subject currently blocked? Counts nothing. (Pages and the security-key options read the locks beside the token with {@link RateLimits.checkAlso}.) */
  check(scope: RateLimitScope, subject: RateLimitSubject): Promise<RateLimitVerdict>;
  /**
   * {@link RateLimits.check}, reading other limits' states (as counter rows) in the same statement: `also`
   * holds their rows by key, absent when a query gave none.
   */
  checkAlso(
    scope: RateLimitScope,
    subject: RateLimitSubject,
    alsoRead: CounterRowsPart[],
  ): Promise<{ verdict: RateLimitVerdict; also: Map<string, CounterValue> }>;
  /**
   * Count an attempt BEFORE its secret is checked, and say whether it may go ahead. Counting first is
   * what makes the limit hold under a burst of parallel guesses on any number of instances: with
   * check-then-count, every request of a burst passes the check before any of them is counted
   * (NIST SP 800-63B 5.2.2, ASVS V2.2.1). An attempt that turns out not to be a failure is given back
   * with {@link RateLimits.refund}.
   */
  attempt(scope: RateLimitScope, subject: RateLimitSubject): Promise<AttemptVerdict>;
  /** The attempt was not a failure (input that tested no secret): give it back. */
  refund(scope: RateLimitScope, subject: RateLimitSubject): Promise<void>;
  /**
   * The attempt's secret was right: give the attempt back everywhere, and forget the failures of this
   * subject's own counters (this account from this place, this session, this account's short
   * second-factor window). Never the account-wide password counter: that one is the attackers'.
   */
  succeeded(scope: RateLimitScope, subject: RateLimitSubject): Promise<void>;
  /** Forget an account's failures (an admin 2FA reset). IP counters are left alone. */
  resetAccount(scope: RateLimitScope, account: string): Promise<void>;
}

/**
 * How long a place that failed for an account stays "known to have failed" for the account-wide rule:
 * an attacking address gets one try outside the account-wide budget a day, not one every window.
 */
const PLACE_MEMORY_MS = 24 * 60 * 60_000;
const NEVER_BLOCKS = Number.MAX_SAFE_INTEGER;

/** Blocks longer than this are the year's TOTP guessing budget, spent (see totp-guess-budget.ts). */
const LONG_LOCK_MS = 24 * 60 * 60_000;

/** "Too many failed attempts. Try again in N minutes." — what people see when blocked. */
export function rateLimitMessage(retryAfterMs: number): string {
  if (retryAfterMs > LONG_LOCK_MS) {
    return 'Too many failed attempts: two-factor login to this account is locked. Contact the administrators of this index to unlock it.';
  }
  return `Too many failed attempts. ${tryAgainIn(retryAfterMs)}`;
}

/** How a counter takes part in a verdict. */
type Role =
  /** Over its maximum → blocked. */
  | 'limit'
  /**
   * Password failures for an account from every place together. Over its maximum it blocks only
   * places that already failed for this account (in the last day): a stranger spreading guesses over
   * many addresses gets this budget per window, shared, plus one try per new address a day, while the owner, from a
   * network the attack does not use or from a remembered device, is never refused (issue 14 point 2;
   * OWASP Authentication Cheat Sheet, "account lockout" denial of service).
   */
  | 'account-wide'
  /** Never blocks: remembers, for a day, that a place failed for an account (so the account-wide rule can refuse it). */
  | 'memory';

interface Entry {
  key: string;
  windowMs: number;
  max: number;
  reason: 'account' | 'ip';
  role: Role;
}

/**
 * Fixed-window failure counters in the database, so every server instance sees the same counts
 * (ASVS V2.2.1, NIST SP 800-63B 5.2.2). One multi-row upsert per attempt: atomic in both dialects.
 *
 * The password step is counted per account *and place* (the client's address block, or the remembered
 * device the request carries), per address block across accounts, and per account from all places
 * (role `account-wide`). No counter a stranger can fill ever refuses the owner on a remembered device,
 * from another network, or re-authenticating in a live session (counted per session). The second
 * factor is reached only with the password, so its short window is per account; the yearly TOTP
 * budget lives in totp-guess-budget.ts.
 */
export function createRateLimits(db: Kysely<Database>, config: RateLimitConfig, now: Clock, subjectKey: Buffer): RateLimits {
  const rule = (key: string, r: RateLimitRule, reason: 'account' | 'ip', role: Role = 'limit'): Entry => ({ key, ...r, reason, role });
  const keysFor = (scope: RateLimitScope, subject: RateLimitSubject): Entry[] => {
    const block = subject.ip ? addressBlock(subject.ip) : null;
    switch (scope) {
      case 'password': {
        // The login name as typed, known or not. Usernames are public on a package index, but people type
        // their e-mail address here too (sometimes their password): personal data the counters table must
        // not hold, nor a plain hash of it. Stored as an HMAC under `keys['rate-limit-subject']`, as the
        // request limits store theirs (request-limits.ts; OWASP ASVS 4.0.3 V8.3). Counters under the plain
        // names used before age out with their window (a day at most) and are purged; no migration.
        const name = hmac(subjectKey, subject.account);
        const entries = [rule(`password:account:${name}`, config.passwordPerAccountAllPlaces, 'account', 'account-wide')];
        if (subject.device) {
          // A remembered device is a place of its own, and no stranger's address can fill its counters. Its id is a
          // bearer secret (remembered_devices keeps only its digest): kept here as an HMAC too.
          entries.push(rule(`password:place:${name}:device:${hmac(subjectKey, subject.device)}`, config.passwordPerAccount, 'account'));
        } else {
          entries.push(rule(`password:place:${name}:${block ?? 'unknown'}`, config.passwordPerAccount, 'account'));
          entries.push(rule(`password:seen:${name}:${block ?? 'unknown'}`, { max: NEVER_BLOCKS, windowMs: PLACE_MEMORY_MS }, 'account', 'memory'));
          if (block) entries.push(rule(`password:ip:${block}`, config.passwordPerIp, 'ip'));
        }
        return entries;
      }
      case 'second-factor': {
        const entries = [rule(`second-factor:account:${subject.account}`, config.secondFactorPerAccount, 'account')];
        if (block) entries.push(rule(`second-factor:ip:${block}`, config.secondFactorPerIp, 'ip'));
        return entries;
      }
      case 'reauthenticate':
        return [rule(`reauthenticate:session:${subject.account}`, config.reauthenticatePerSession, 'account')];
    }
  };
  /**
   * The counters that decide: the account-wide one only when this place already failed for the account
   * (in the last day for an address, in its window for a remembered device).
   */
  const deciding = (entries: Entry[], counts: Map<string, CounterValue>, time: number, failedBefore: (count: number) => boolean) => {
    const place = entries.find((entry) => entry.role === 'memory') ?? entries.find((entry) => entry.key.startsWith('password:place:'));
    const placeRow = place ? counts.get(place.key) : undefined;
    const placeFailed = Boolean(place && placeRow && placeRow.windowStart + place.windowMs > time && failedBefore(placeRow.count));
    return entries.filter((entry) => entry.role === 'limit' || (entry.role === 'account-wide' && placeFailed));
  };
  const verdict = (entries: Entry[], counts: Map<string, CounterValue>, time: number, over: (count: number, max: number) => boolean) => {
    const worst = worstCounter(entries, counts, time, over);
    return worst ? { retryAfterMs: worst.retryAfterMs, reason: worst.entry.reason } : null;
  };

  const purge = counterPurger(db, [
    {
      prefix: 'password:',
      windowMs: Math.max(config.passwordPerAccount.windowMs, config.passwordPerAccountAllPlaces.windowMs, config.passwordPerIp.windowMs, PLACE_MEMORY_MS),
    },
    { prefix: 'second-factor:', windowMs: Math.max(config.secondFactorPerAccount.windowMs, config.secondFactorPerIp.windowMs) },
    { prefix: 'reauthenticate:', windowMs: config.reauthenticatePerSession.windowMs },
  ]);

  /** A counter with no failures in a window that ended long ago: the same as no counter (purged later). */
  const forgotten = (entry: { key: string }) => ({ key: entry.key, window_start: 0, failures: 0 });
  const giveBack = sql<number>`case when rate_limits.failures > 0 then rate_limits.failures - 1 else 0 end`;

  const rateLimits: RateLimits = {
    async check(scope, subject) {
      return (await rateLimits.checkAlso(scope, subject, [])).verdict;
    },

    async checkAlso(scope, subject, alsoRead) {
      const entries = keysFor(scope, subject);
      const time = now();
      const counts = await readCounters(
        db,
        entries.map((entry) => entry.key),
        alsoRead,
      );
      // Not counted: this place "failed before" once it has any failure in its window.
      const worst = verdict(
        deciding(entries, counts, time, (count) => count >= 1),
        counts,
        time,
        (count, max) => count >= max,
      );
      const own = new Set(entries.map((entry) => entry.key));
      return {
        verdict: worst ? { blocked: true, ...worst } : { blocked: false },
        also: new Map([...counts].filter(([key]) => !own.has(key))),
      };
    },

    async attempt(scope, subject) {
      const time = now();
      const entries = keysFor(scope, subject);
      const counts = await incrementCounters(db, entries, time);
      await purge(time);
      // Counted already: this place failed before when its count is above this attempt's own 1.
      const active = deciding(entries, counts, time, (count) => count > 1);
      const over = verdict(active, counts, time, (count, max) => count > max);
      if (over) return { blocked: true, ...over };
      const closest = active.reduce((a, b) => (b.max - (counts.get(b.key)?.count ?? 0) < a.max - (counts.get(a.key)?.count ?? 0) ? b : a));
      const remaining = closest.max - (counts.get(closest.key)?.count ?? 0);
      const lastAllowed = verdict(
        active.filter((entry) => entry.role === 'limit'),
        counts,
        time,
        (count, max) => count === max,
      );
      return { blocked: false, lastAllowed: lastAllowed ?? false, remaining, pauseMs: closest.windowMs };
    },

    async refund(scope, subject) {
      await writeCounters(db, byKey(keysFor(scope, subject).map(forgotten)), {
        failures: giveBack,
        window_start: sql<number>`rate_limits.window_start`,
      }).execute();
    },

    async succeeded(scope, subject) {
      const entries = keysFor(scope, subject);
      // This place proved it has the secret: its own counters and its "failed here" memory start afresh.
      const own = entries.filter((entry) => entry.reason === 'account' && entry.role !== 'account-wide').map((entry) => entry.key);
      const isOwnKey = sql<boolean>`rate_limits.key in (${sql.join(own)})`;
      await writeCounters(db, byKey(entries.map(forgotten)), {
        failures: sql<number>`case when ${isOwnKey} then 0 else ${giveBack} end`,
        window_start: sql<number>`case when ${isOwnKey} then 0 else rate_limits.window_start end`,
      }).execute();
    },

    async resetAccount(scope, account) {
      const entries = keysFor(scope, { account, ip: null }).filter((entry) => entry.reason === 'account');
      await writeCounters(db, byKey(entries.map(forgotten)), { failures: sql<number>`0`, window_start: sql<number>`0` }).execute();
    },
  };
  return rateLimits;
}
