import { type ExpressionBuilder, type Kysely, type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import { compiledOnce } from '../db/compiled-once.js';
import type { Database } from '../db/schema.js';

/**
 * Fixed-window counters in the `rate_limits` table, shared by the failure limits (rate-limits.ts) and
 * the request limits (request-limits.ts). In the database, so every server instance sees the same
 * counts (ASVS V2.2.1, NIST SP 800-63B 5.2.2).
 */
export interface CounterEntry {
  key: string;
  windowMs: number;
}

export interface CounterValue {
  windowStart: number;
  count: number;
}

type CounterRow = { key: string; window_start: number; failures: number };

/**
 * The one way counters are written: a multi-row upsert, one round trip, rows in key order. PostgreSQL
 * locks an upsert's rows in VALUES order, so every write takes its row locks in one global order and two
 * concurrent writes cannot deadlock (an `UPDATE … WHERE key IN (…)` locks in scan order, which can;
 * seen in the bench as a 1-second stall and a 500). `rows` are inserted where a key has no counter yet;
 * they must come sorted by key ({@link byKey}).
 */
export function writeCounters(db: Kysely<Database>, rows: CounterRow[], set: { failures: RawBuilder<number>; window_start: RawBuilder<number> }) {
  return db
    .insertInto('rate_limits')
    .values(rows)
    .onConflict((conflict) => conflict.column('key').doUpdateSet(set));
}

/** Sorted by key: the order every counter write takes its row locks in (see {@link writeCounters}). */
export function byKey<T extends { key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The increment for `size` keys, compiled once per size (`key0`, `expiredBefore0`, … in key order): each
 * key's window has its own length, so "has this row's window expired?" is looked up per key.
 */
const incrementStatement = compiledOnce((db, args: Record<string, unknown>, size: number) => {
  const indexes = Array.from({ length: size }, (_, i) => i);
  const expiredBefore = sql<number>`case rate_limits.key ${sql.join(
    indexes.map((i) => sql`when ${args[`key${i}`]} then cast(${args[`expiredBefore${i}`]} as bigint)`),
    sql` `,
  )} end`;
  return writeCounters(
    db,
    indexes.map((i) => ({ key: args[`key${i}`] as string, window_start: args.time as number, failures: 1 })),
    {
      failures: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then 1 else rate_limits.failures + 1 end`,
      window_start: sql<number>`case when rate_limits.window_start <= ${expiredBefore} then excluded.window_start else rate_limits.window_start end`,
    },
  ).returning(['key', 'window_start', 'failures']);
});

/**
 * Add one to each key's counter in one atomic statement and return the counts after the write. A
 * window that has ended starts again at 1. Counting happens before the caller decides anything, so a
 * burst of parallel requests on any number of instances is counted in full.
 */
export async function incrementCounters(db: Kysely<Database>, entries: CounterEntry[], time: number): Promise<Map<string, CounterValue>> {
  const args: Record<string, unknown> = { time };
  byKey(entries).forEach((entry, i) => {
    args[`key${i}`] = entry.key;
    args[`expiredBefore${i}`] = time - entry.windowMs;
  });
  const { rows } = await incrementStatement(db, args, entries.length);
  return new Map(rows.map((row) => [row.key, { windowStart: Number(row.window_start), count: row.failures }]));
}

/** A query whose rows look like counters (`key`, `window_start`, `failures`): another limit's state read beside them. */
export type CounterRowsQuery = SelectQueryBuilder<Database, keyof Database, CounterRow>;

/**
 * Another limit's state, read as counter rows beside the counters in the same statement. `build` makes its
 * query from stand-ins for `values` (the rules of compiledOnce); parts of one `kind` share one `build`.
 */
export interface CounterRowsPart {
  kind: string;
  build(db: Kysely<Database>, args: Record<string, unknown>): CounterRowsQuery;
  values: Record<string, unknown>;
}

/** The read of `keys` counters (`key0`, …) and the `parts` after them (`p0:…`), compiled once per shape. */
const readStatement = compiledOnce(
  (db, args: Record<string, unknown>, shape: { keys: number; parts: readonly CounterRowsPart[] }) => {
    const keys = Array.from({ length: shape.keys }, (_, i) => args[`key${i}`] as string);
    let query: CounterRowsQuery = db.selectFrom('rate_limits').select(['key', 'window_start', 'failures']).where('key', 'in', keys);
    shape.parts.forEach((part, p) => {
      query = query.unionAll(part.build(db, new Proxy({}, { get: (_target, name) => args[`p${p}:${String(name)}`] })));
    });
    return query;
  },
  (shape) => `${shape.keys}:${shape.parts.map((part) => part.kind).join(',')}`,
);

/**
 * Read counters without changing them; `alsoRead` are other limits' states presented as counter rows,
 * read in the same statement (one round trip for a page that shows every lock).
 */
export async function readCounters(db: Kysely<Database>, keys: string[], alsoRead: readonly CounterRowsPart[] = []): Promise<Map<string, CounterValue>> {
  const args: Record<string, unknown> = {};
  keys.forEach((key, i) => {
    args[`key${i}`] = key;
  });
  alsoRead.forEach((part, p) => {
    for (const [name, value] of Object.entries(part.values)) args[`p${p}:${name}`] = value;
  });
  const { rows } = await readStatement(db, args, { keys: keys.length, parts: alsoRead });
  return new Map(rows.map((row) => [row.key, { windowStart: Number(row.window_start), count: Number(row.failures) }]));
}

/**
 * The counter among `entries` that is over its limit (by `over`) in a window that has not ended, with
 * the longest wait; null when none is.
 */
export function worstCounter<Entry extends CounterEntry & { max: number }>(
  entries: Entry[],
  counts: Map<string, CounterValue>,
  time: number,
  over: (count: number, max: number) => boolean,
): { entry: Entry; retryAfterMs: number } | null {
  let worst: { entry: Entry; retryAfterMs: number } | null = null;
  for (const entry of entries) {
    const row = counts.get(entry.key);
    if (!row) continue;
    const windowEnd = row.windowStart + entry.windowMs;
    if (windowEnd > time && over(row.count, entry.max)) {
      const retryAfterMs = windowEnd - time;
      if (!worst || retryAfterMs > worst.retryAfterMs) worst = { entry, retryAfterMs };
    }
  }
  return worst;
}

const PURGE_INTERVAL_MS = 60_000;

/**
 * Windows that ended long ago carry no information: drop them, at most once a minute per purger.
 * Each purger owns the keys under its prefixes and knows their longest window, so one kind of limit
 * never drops another's live counters.
 */
export function counterPurger(db: Kysely<Database>, owned: { prefix: string; windowMs: number }[]): (time: number) => Promise<void> {
  let lastPurge = 0;
  return async (time) => {
    if (time - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = time;
    const expired = (eb: ExpressionBuilder<Database, 'rate_limits'>) =>
      eb.or(owned.map(({ prefix, windowMs }) => eb.and([eb('key', 'like', `${prefix}%`), eb('window_start', '<', time - windowMs)])));
    if (isPostgres(db)) {
      // A multi-row DELETE locks in scan order, unlike the key-ordered counter writes; skipping rows
      // another request holds (it is restarting them, so they are not garbage) means the purge never
      // waits, and so can never be part of a deadlock.
      await db.deleteFrom('rate_limits').where('key', 'in', db.selectFrom('rate_limits').select('key').where(expired).forUpdate().skipLocked()).execute();
    } else {
      await db.deleteFrom('rate_limits').where(expired).execute();
    }
  };
}
