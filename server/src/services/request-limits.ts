import { type Kysely, sql } from 'kysely';
import type { RequestKind, RequestLimitConfig, RateLimitRule } from '../config.js';
import type { Database } from '../db/schema.js';
import { addressBlock } from './address-block.js';
import type { Clock } from './clock.js';
import { hmac } from './keys.js';
import { byKey, counterPurger, incrementCounters, worstCounter, writeCounters } from './rate-limit-counters.js';

export type { RequestKind } from '../config.js';

/** `blocked` has the same shape as a blocked login step, so routes answer both alike (429 + Retry-After). */
export type RequestLimitVerdict =
  | { kind: 'allowed' }
  | { kind: 'blocked'; status: 429; message: string; retryAfterSeconds: number; scope: 'address' | 'subject' | 'everyone' };

/**
 * Limits on requests that cost the server (an argon2 hash, a mail) or tell an outsider something (is
 * this username taken?), whether or not they succeed: registration, password-reset requests,
 * verification resends (OWASP ASVS V2.2.1 anti-automation; V11.1.4 business-logic limits). Each kind is
 * counted per client address (IPv6 per /64, see address-block.ts), for everyone together (a ceiling
 * on the total cost a botnet of any size can cause), and optionally per subject (the account a reset
 * or verification mail is for — for a reset, each account the name typed resolves to — so one
 * mailbox cannot be flooded). In the database,
 * so the limits hold across server instances.
 */
export interface RequestLimits {
  /**
   * Count one request of `kind`, then say whether it may go ahead. Counted first (whatever the
   * outcome), so a burst of parallel requests cannot slip past; in the global ceiling only when its own
   * address and subject limits let it through. `ip` null (no socket address) is
   * counted under "everyone" only. Several subjects (a reset asked for by an address that several
   * accounts share) are each counted; the request is refused when any of them is over.
   */
  take(kind: RequestKind, who: { ip: string | null; subject?: string | readonly string[] }): Promise<RequestLimitVerdict>;
  /**
   * Undo one `take` of `kind` that was allowed, for a request refused afterwards for a reason of its own that
   * must not cost the client its allowance (routes/email.ts: the mailbox's cap filled in between). Takes one
   * off each counter that `take` added to (address, subjects, everyone), never below zero, atomically. Only
   * after an allowed `take`: a blocked one did not count towards "everyone".
   */
  giveBack(kind: RequestKind, who: { ip: string | null; subject?: string | readonly string[] }): Promise<void>;
}

/** What people read when a kind of request is refused. */
const WHAT: Record<RequestKind, string> = {
  register: 'account registrations',
  'password-reset': 'password-reset requests',
  // Never shown: a spent cap sends nothing and answers like any other request (services/password-resets.ts).
  'password-reset-mail': 'password-reset e-mails',
  'verification-resend': 'verification e-mails',
  'webauthn-options': 'security-key requests',
};

/** "Try again in N minutes." — rounded up, never "0 minutes". */
export function tryAgainIn(retryAfterMs: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** `subjectKey`: `keys['rate-limit-subject']`, under which subjects are stored as HMACs (see below). */
export function createRequestLimits(db: Kysely<Database>, config: RequestLimitConfig, now: Clock, subjectKey: Buffer): RequestLimits {
  const purge = counterPurger(
    db,
    (Object.keys(config) as RequestKind[]).map((kind) => ({
      prefix: `request:${kind}:`,
      windowMs: Math.max(...Object.values(config[kind]).map((rule: RateLimitRule) => rule.windowMs)),
    })),
  );
  type Entry = { key: string; windowMs: number; max: number; scope: 'address' | 'subject' | 'everyone' };
  /** The counters one request of `kind` from `ip` for `subject` is counted in. */
  const entriesFor = (kind: RequestKind, ip: string | null, subject: string | readonly string[] | undefined): Entry[] => {
    const rules = config[kind];
    const entries: Entry[] = [{ key: `request:${kind}:everyone`, ...rules.everyone, scope: 'everyone' }];
    if (ip && rules.perAddress) entries.push({ key: `request:${kind}:ip:${addressBlock(ip)}`, ...rules.perAddress, scope: 'address' });
    const subjects = subject === undefined ? [] : typeof subject === 'string' ? [subject] : subject;
    if (rules.perSubject) {
      for (const one of new Set(subjects)) {
        // A reset request's subject is the name as typed, often an e-mail address: personal data that the
        // counters table must not hold, nor a plain hash of it (reversed by hashing guesses by anyone with a
        // copy of the database). So every subject is stored as an HMAC under a key derived from the server's
        // secret for this purpose alone (OWASP ASVS 4.0.3 V8.3 sensitive private data, V6.4.1 keys by purpose);
        // account ids too, so there is one way. Counters stored under the plain SHA-256 used before are not
        // found again: they age out with their window (an hour at most) and the purger drops them; no migration.
        const digest = hmac(subjectKey, one);
        entries.push({ key: `request:${kind}:subject:${digest}`, ...rules.perSubject, scope: 'subject' });
      }
    }
    return entries;
  };
  return {
    async take(kind, { ip, subject }) {
      const entries = entriesFor(kind, ip, subject);
      const time = now();
      const isOver = (count: number, max: number) => count > max;
      // The request's own counters (address, subjects) first, the global ceiling only for a request they
      // let through: one client that keeps sending past its own limit must not spend the ceiling for
      // everyone (an hour with no registrations anywhere from 300 refused requests). Counting it there and
      // giving it back afterwards was not enough: a burst held the ceiling up while it ran, and the others'
      // requests refused meanwhile stayed counted (PostgreSQL: 100 parallel refused requests from one
      // address refused 7 of 7 other clients and spent the rest of the hour's ceiling).
      const own = entries.filter((entry) => entry.scope !== 'everyone');
      const everyone = entries.filter((entry) => entry.scope === 'everyone');
      const ownCounts = own.length > 0 ? await incrementCounters(db, own, time) : new Map();
      let over = worstCounter(own, ownCounts, time, isOver);
      if (!over) over = worstCounter(everyone, await incrementCounters(db, everyone, time), time, isOver);
      await purge(time);
      if (!over) return { kind: 'allowed' };
      const { scope } = over.entry;
      const message =
        scope === 'everyone'
          ? `This index is receiving too many ${WHAT[kind]} right now. ${tryAgainIn(over.retryAfterMs)}`
          : scope === 'address'
            ? `Too many ${WHAT[kind]} from your network. ${tryAgainIn(over.retryAfterMs)}`
            : `Too many ${WHAT[kind]} for this account. ${tryAgainIn(over.retryAfterMs)}`;
      return { kind: 'blocked', status: 429, message, retryAfterSeconds: Math.ceil(over.retryAfterMs / 1000), scope };
    },

    async giveBack(kind, { ip, subject }) {
      // The increment's statement (rate-limit-counters.ts) with -1: one upsert in key order, so it takes its row
      // locks in the same global order as every counter write and cannot deadlock with them; atomic per row on
      // both databases. A key with no row (purged meanwhile) gets an ended window at 0, which the next `take`
      // restarts and the purger drops.
      const rows = byKey(entriesFor(kind, ip, subject)).map((entry) => ({ key: entry.key, window_start: 0, failures: 0 }));
      await writeCounters(db, rows, {
        failures: sql<number>`case when rate_limits.failures > 0 then rate_limits.failures - 1 else 0 end`,
        window_start: sql<number>`rate_limits.window_start`,
      }).execute();
    },
  };
}
