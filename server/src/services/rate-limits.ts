import { type Kysely, sql } from 'kysely';
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

export interface RateLimits {
  /** Is this subject currently blocked? Asked before the (expensive) check of a secret. */
  check(scope: RateLimitScope, subject: RateLimitSubject): Promise<RateLimitVerdict>;
  /** Count one failure; returns whether this failure started a lock-out (for the `account:lockout` event). */
  recordFailure(scope: RateLimitScope, subject: RateLimitSubject): Promise<{ lockedOut: boolean }>;
  /** Forget an account's failures (after a successful login). IP counters are left alone. */
  resetAccount(scope: RateLimitScope, account: string): Promise<void>;
}

const PURGE_INTERVAL_MS = 60_000;

/** "Too many failed attempts. Try again in N minutes." — what people see when blocked. */
export function rateLimitMessage(retryAfterMs: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * Fixed-window failure counters in the database, so every server instance sees the same counts
 * (ASVS V2.2.1, NIST SP 800-63B 5.2.2). One upsert per failure: atomic in both dialects.
 */
export function createRateLimits(db: Kysely<Database>, config: RateLimitConfig, now: Clock): RateLimits {
  const rules = (scope: RateLimitScope): { account: RateLimitRule; ip: RateLimitRule } =>
    scope === 'password'
      ? { account: config.passwordPerAccount, ip: config.passwordPerIp }
      : { account: config.secondFactorPerAccount, ip: config.secondFactorPerIp };
  const keysFor = (scope: RateLimitScope, subject: RateLimitSubject) => {
    const rule = rules(scope);
    const keys: { key: string; rule: RateLimitRule; reason: 'account' | 'ip' }[] = [
      { key: `${scope}:account:${subject.account}`, rule: rule.account, reason: 'account' },
    ];
    if (subject.ip) keys.push({ key: `${scope}:ip:${subject.ip}`, rule: rule.ip, reason: 'ip' });
    return keys;
  };

  const longestWindowMs = Math.max(...Object.values(config).map((rule) => rule.windowMs));
  let lastPurge = 0;
  /** Windows that ended long ago carry no information; drop them at most once a minute. */
  const purgeExpired = async (time: number) => {
    if (time - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = time;
    await db.deleteFrom('rate_limits').where('window_start', '<', time - longestWindowMs).execute();
  };

  return {
    async check(scope, subject) {
      const entries = keysFor(scope, subject);
      const rows = await db
        .selectFrom('rate_limits')
        .select(['key', 'window_start', 'failures'])
        .where('key', 'in', entries.map((entry) => entry.key))
        .execute();
      const time = now();
      let verdict: RateLimitVerdict = { blocked: false };
      for (const entry of entries) {
        const row = rows.find((candidate) => candidate.key === entry.key);
        if (!row) continue;
        const windowEnd = Number(row.window_start) + entry.rule.windowMs;
        if (windowEnd > time && row.failures >= entry.rule.max) {
          const retryAfterMs = windowEnd - time;
          if (!verdict.blocked || retryAfterMs > verdict.retryAfterMs) verdict = { blocked: true, retryAfterMs, reason: entry.reason };
        }
      }
      return verdict;
    },

    async recordFailure(scope, subject) {
      let lockedOut = false;
      const time = now();
      for (const entry of keysFor(scope, subject)) {
        const expiredBefore = time - entry.rule.windowMs;
        const row = await db
          .insertInto('rate_limits')
          .values({ key: entry.key, window_start: time, failures: 1 })
          .onConflict((conflict) =>
            conflict.column('key').doUpdateSet({
              failures: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then 1 else rate_limits.failures + 1 end`,
              window_start: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then ${time} else rate_limits.window_start end`,
            }),
          )
          .returning(['failures'])
          .executeTakeFirstOrThrow();
        if (entry.reason === 'account' && row.failures === entry.rule.max) lockedOut = true;
      }
      await purgeExpired(time);
      return { lockedOut };
    },

    async resetAccount(scope, account) {
      await db.deleteFrom('rate_limits').where('key', '=', `${scope}:account:${account}`).execute();
    },
  };
}
