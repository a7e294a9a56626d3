import { type ExpressionBuilder, type Kysely, type RawBuilder, sql } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { RateLimitConfig, RateLimitRule } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Clock } from './clock.js';

/** What is being limited: the password step or any second factor (TOTP, recovery code, security key). */
export type RateLimitScope = 'password' | 'second-factor';

/** Who a failure is counted against. `account` is the canonical username or the user id. */
export interface RateLimitSubject {
  account: string;
  ip: string | null;
}

export type RateLimitVerdict = { blocked: false } | { blocked: true; retryAfterMs: number; reason: 'account' | 'ip' };

/** An attempt that was counted and may go ahead. */
export interface AllowedAttempt {
  blocked: false;
  /** If this attempt fails, the account (or IP) is locked out: the caller shows the lock-out and records it. */
  lastAllowed: false | { retryAfterMs: number; reason: 'account' | 'ip' };
}

export type AttemptVerdict = AllowedAttempt | Extract<RateLimitVerdict, { blocked: true }>;

export interface RateLimits {
  /** Is this subject currently blocked? Counts nothing: for gates that check no secret (e.g. WebAuthn options). */
  check(scope: RateLimitScope, subject: RateLimitSubject): Promise<RateLimitVerdict>;
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
  /** The attempt's secret was right: give the attempt back to the IP and forget the account's failures (one write). */
  succeeded(scope: RateLimitScope, subject: RateLimitSubject): Promise<void>;
  /** Forget an account's failures, consecutive ones included (after a successful login, or an admin 2FA reset). IP counters are left alone. */
  resetAccount(scope: RateLimitScope, account: string): Promise<void>;
}

const PURGE_INTERVAL_MS = 60_000;

/** Blocks longer than this are the consecutive-failure lock, which only an administrator lifts. */
const ADMIN_UNLOCK_AFTER_MS = 24 * 60 * 60_000;

/** "Too many failed attempts. Try again in N minutes." — what people see when blocked. */
export function rateLimitMessage(retryAfterMs: number): string {
  if (retryAfterMs > ADMIN_UNLOCK_AFTER_MS) {
    return 'Too many failed attempts: two-factor login to this account is locked. Contact the administrators of this index to unlock it.';
  }
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * Fixed-window failure counters in the database, so every server instance sees the same counts
 * (ASVS V2.2.1, NIST SP 800-63B 5.2.2). One multi-row upsert per attempt: atomic in both dialects.
 */
export function createRateLimits(db: Kysely<Database>, config: RateLimitConfig, now: Clock): RateLimits {
  const keysFor = (scope: RateLimitScope, subject: RateLimitSubject) => {
    const keys: { key: string; rule: RateLimitRule; reason: 'account' | 'ip' }[] = [];
    if (scope === 'password') {
      keys.push({ key: `password:account:${subject.account}`, rule: config.passwordPerAccount, reason: 'account' });
      if (subject.ip) keys.push({ key: `password:ip:${subject.ip}`, rule: config.passwordPerIp, reason: 'ip' });
    } else {
      keys.push({ key: `second-factor:account:${subject.account}`, rule: config.secondFactorPerAccount, reason: 'account' });
      keys.push({ key: `second-factor:consecutive:${subject.account}`, rule: config.secondFactorConsecutivePerAccount, reason: 'account' });
      if (subject.ip) keys.push({ key: `second-factor:ip:${subject.ip}`, rule: config.secondFactorPerIp, reason: 'ip' });
    }
    return keys;
  };

  const { secondFactorConsecutivePerAccount: consecutive, ...windowed } = config;
  const longestWindowMs = Math.max(...Object.values(windowed).map((rule) => rule.windowMs));
  let lastPurge = 0;
  /** Windows that ended long ago carry no information; drop them at most once a minute. */
  const purgeExpired = async (time: number) => {
    if (time - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = time;
    const expired = (eb: ExpressionBuilder<Database, 'rate_limits'>) =>
      eb.or([
        eb.and([eb('key', 'not like', '%:consecutive:%'), eb('window_start', '<', time - longestWindowMs)]),
        eb('window_start', '<', time - consecutive.windowMs),
      ]);
    if (isPostgres(db)) {
      // A multi-row DELETE locks in scan order, unlike the key-ordered counter writes; skipping rows
      // another request holds (it is restarting them, so they are not garbage) means the purge never
      // waits, and so can never be part of a deadlock.
      await db
        .deleteFrom('rate_limits')
        .where('key', 'in', db.selectFrom('rate_limits').select('key').where(expired).forUpdate().skipLocked())
        .execute();
    } else {
      await db.deleteFrom('rate_limits').where(expired).execute();
    }
  };

  const verdictFrom = (entries: ReturnType<typeof keysFor>, counts: Map<string, { windowStart: number; failures: number }>, time: number, over: (failures: number, max: number) => boolean) => {
    let worst: { retryAfterMs: number; reason: 'account' | 'ip' } | null = null;
    for (const entry of entries) {
      const row = counts.get(entry.key);
      if (!row) continue;
      const windowEnd = row.windowStart + entry.rule.windowMs;
      if (windowEnd > time && over(row.failures, entry.rule.max)) {
        const retryAfterMs = windowEnd - time;
        if (!worst || retryAfterMs > worst.retryAfterMs) worst = { retryAfterMs, reason: entry.reason };
      }
    }
    return worst;
  };

  /**
   * The one way counters are written: a multi-row upsert, one round trip, rows in key order. PostgreSQL
   * locks an upsert's rows in VALUES order, so every write takes its row locks in one global order and two
   * concurrent writes cannot deadlock (an `UPDATE … WHERE key IN (…)` locks in scan order, which can;
   * seen in the bench as a 1-second stall and a 500). `rows` are inserted where a key has no counter yet.
   */
  const writeCounters = (rows: { key: string; window_start: number; failures: number }[], set: { failures: RawBuilder<number>; window_start: RawBuilder<number> }) =>
    db
      .insertInto('rate_limits')
      .values([...rows].sort((a, b) => (a.key < b.key ? -1 : 1)))
      .onConflict((conflict) => conflict.column('key').doUpdateSet(set));
  /** A counter with no failures in a window that ended long ago: the same as no counter (purged later). */
  const forgotten = (entry: { key: string }) => ({ key: entry.key, window_start: 0, failures: 0 });
  const giveBack = sql<number>`case when rate_limits.failures > 0 then rate_limits.failures - 1 else 0 end`;

  return {
    async check(scope, subject) {
      const entries = keysFor(scope, subject);
      const rows = await db
        .selectFrom('rate_limits')
        .select(['key', 'window_start', 'failures'])
        .where('key', 'in', entries.map((entry) => entry.key))
        .execute();
      const counts = new Map(rows.map((row) => [row.key, { windowStart: Number(row.window_start), failures: row.failures }]));
      const worst = verdictFrom(entries, counts, now(), (failures, max) => failures >= max);
      return worst ? { blocked: true, ...worst } : { blocked: false };
    },

    async attempt(scope, subject) {
      const time = now();
      const entries = keysFor(scope, subject);
      // Each key's window has its own length, so "has this row's window expired?" is looked up per key.
      const expiredBefore = sql<number>`case rate_limits.key ${sql.join(
        entries.map((entry) => sql`when ${entry.key} then cast(${time - entry.rule.windowMs} as bigint)`),
        sql` `,
      )} end`;
      // A new window starts at 1, otherwise the count goes up by one.
      const rows = await writeCounters(
        entries.map((entry) => ({ key: entry.key, window_start: time, failures: 1 })),
        {
          failures: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then 1 else rate_limits.failures + 1 end`,
          window_start: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then excluded.window_start else rate_limits.window_start end`,
        },
      )
        .returning(['key', 'window_start', 'failures'])
        .execute();
      const counts = new Map(rows.map((row) => [row.key, { windowStart: Number(row.window_start), failures: row.failures }]));
      await purgeExpired(time);
      const over = verdictFrom(entries, counts, time, (failures, max) => failures > max);
      if (over) return { blocked: true, ...over };
      return { blocked: false, lastAllowed: verdictFrom(entries, counts, time, (failures, max) => failures === max) ?? false };
    },

    async refund(scope, subject) {
      await writeCounters(keysFor(scope, subject).map(forgotten), { failures: giveBack, window_start: sql<number>`rate_limits.window_start` }).execute();
    },

    async succeeded(scope, subject) {
      const entries = keysFor(scope, subject);
      const isAccountKey = sql<boolean>`rate_limits.key in (${sql.join(entries.filter((entry) => entry.reason === 'account').map((entry) => entry.key))})`;
      await writeCounters(entries.map(forgotten), {
        failures: sql<number>`case when ${isAccountKey} then 0 else ${giveBack} end`,
        window_start: sql<number>`case when ${isAccountKey} then 0 else rate_limits.window_start end`,
      }).execute();
    },

    async resetAccount(scope, account) {
      await writeCounters(keysFor(scope, { account, ip: null }).map(forgotten), { failures: sql<number>`0`, window_start: sql<number>`0` }).execute();
    },
  };
}
