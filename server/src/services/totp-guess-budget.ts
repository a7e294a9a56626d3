import { type Kysely, sql } from 'kysely';
import type { RateLimitRule } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Clock } from './clock.js';
import { compiledOnce } from '../db/compiled-once.js';
import type { CounterRowsPart, CounterRowsQuery, CounterValue } from './rate-limit-counters.js';

/**
 * The yearly TOTP guessing budget of one account (NIST SP 800-63B 5.2.2; issue 14 point 1): at most
 * `rule.max` wrong codes in any rolling `rule.windowMs`, whatever the owner does. A guess is written
 * down BEFORE its code is checked and given back only when it turns out right (or tested nothing),
 * so the owner's daily logins never refill what an attacker spent, and a burst of parallel guesses
 * on any number of instances is counted in full: each request counts the rows committed before its
 * count, its own included, so no more than `max` guesses can ever be let through.
 */
export interface TotpGuessBudget {
  /** Wrong codes allowed in the window. */
  readonly limit: number;
  /** Write a guess down; `allowed` says whether its code may be checked. */
  take(userId: string): Promise<TotpGuess>;
  /** The guess was right (or malformed): it does not count. */
  giveBack(guess: Extract<TotpGuess, { allowed: true }>): Promise<void>;
  /**
   * Is the budget spent right now? Asked as a counter row (`failures` = guesses in the window,
   * `window_start` = the oldest), so the two-factor page reads it in the statement that reads the
   * short-window counters (counts nothing); answer it with {@link TotpGuessBudget.spentUntilFrom}.
   */
  asCounterRow(userId: string): { key: string; part: CounterRowsPart };
  /** When the budget stops being spent (the oldest counted guess leaves the window), or null when it is not spent. */
  spentUntilFrom(row: CounterValue | undefined): number | null;
  /** Forget the account's guesses (an administrator's 2FA reset, after an identity check out of band). */
  reset(userId: string): Promise<void>;
}

export type TotpGuess =
  | { allowed: true; id: number; userId: string /** Wrong codes still allowed in the window after this one. */; remaining: number }
  | { allowed: false /** When the oldest counted guess leaves the window. */; retryAfterMs: number };

interface WindowArgs extends Record<string, unknown> {
  key: string;
  userId: string;
  /** Guesses after this time are in the window. */
  after: number;
}

/** An account's guesses in a window, as one counter row keyed `key` (the key is a parameter: one SQL text for every account). */
const guessesInWindow = (db: Kysely<Database>, args: WindowArgs): CounterRowsQuery =>
  db
    .selectFrom('totp_guesses')
    .select((eb) => [
      sql<string>`cast(${args.key} as text)`.as('key'),
      eb.fn.coalesce(eb.fn.min('guessed_at'), sql.lit(0)).$castTo<number>().as('window_start'),
      eb.fn.countAll<number>().as('failures'),
    ])
    .where('user_id', '=', args.userId)
    .where('guessed_at', '>', args.after) as unknown as CounterRowsQuery;
// (Kysely types a select by the tables it reads, here totp_guesses alone; a union with the counters needs
// them to match, and the row shape, which is what matters, is the same.)

const guessesInWindowPart: CounterRowsPart['build'] = (db, args) => guessesInWindow(db, args as WindowArgs);
const countGuesses = compiledOnce(guessesInWindow);
const recordGuess = compiledOnce((db, args: { userId: string; time: number }) =>
  db.insertInto('totp_guesses').values({ user_id: args.userId, guessed_at: args.time }).returning('id'),
);

export function createTotpGuessBudget(db: Kysely<Database>, rule: RateLimitRule, now: Clock): TotpGuessBudget {
  const keyOf = (userId: string) => `totp-guesses:${userId}`;
  let lastPurge = 0;
  return {
    limit: rule.max,
    async take(userId) {
      const time = now();
      const [row] = (await recordGuess(db, { userId, time })).rows;
      const [counted] = (await countGuesses(db, { key: keyOf(userId), userId, after: time - rule.windowMs })).rows;
      if (!row || !counted) throw new Error('the guess was not recorded');
      const count = Number(counted.failures);
      if (count > rule.max) {
        await db.deleteFrom('totp_guesses').where('id', '=', row.id).execute();
        return { allowed: false, retryAfterMs: Math.max(1, Number(counted.window_start) + rule.windowMs - time) };
      }
      if (time - lastPurge > 60 * 60_000) {
        // Guesses older than the window carry no information any more.
        lastPurge = time;
        await db
          .deleteFrom('totp_guesses')
          .where('guessed_at', '<=', time - rule.windowMs)
          .execute();
      }
      return { allowed: true, id: Number(row.id), userId, remaining: rule.max - count };
    },
    async giveBack(guess) {
      await db.deleteFrom('totp_guesses').where('id', '=', guess.id).where('user_id', '=', guess.userId).execute();
    },
    asCounterRow(userId) {
      const key = keyOf(userId);
      const values: WindowArgs = { key, userId, after: now() - rule.windowMs };
      return { key, part: { kind: 'totp-guesses', build: guessesInWindowPart, values } };
    },
    spentUntilFrom(row) {
      return row && row.count >= rule.max ? row.windowStart + rule.windowMs : null;
    },
    async reset(userId) {
      await db.deleteFrom('totp_guesses').where('user_id', '=', userId).execute();
    },
  };
}
