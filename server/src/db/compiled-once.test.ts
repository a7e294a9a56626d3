import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { StatementCounter } from '../testing/statement-counter.js';
import { compiledOnce } from './compiled-once.js';

describe('compiledOnce', () => {
  const harnesses = new Map<(typeof DIALECTS)[number], ServiceHarness>();
  beforeAll(async () => {
    for (const dialect of DIALECTS) harnesses.set(dialect, await createServiceHarness(dialect));
  });
  afterAll(async () => {
    for (const h of harnesses.values()) await h.close();
  });

  let builds = 0;
  const counterByKey = compiledOnce((db, args: { key: string }) => {
    builds++;
    return db.selectFrom('rate_limits').select(['key', 'failures']).where('key', '=', args.key);
  });
  const insertCounter = compiledOnce((db, args: { key: string; failures: number }) =>
    db.insertInto('rate_limits').values({ key: args.key, window_start: 0, failures: args.failures }),
  );

  it.each(DIALECTS)('on %s: binds each run’s values into the query built once, in the database and in its transactions', async (dialect) => {
    const h = harnesses.get(dialect)!;
    const before = builds;
    for (const [key, failures] of [
      [`once-${dialect}-a`, 3],
      [`once-${dialect}-b`, 5],
    ] as const) {
      await insertCounter(h.db, { key, failures });
    }
    expect((await counterByKey(h.db, { key: `once-${dialect}-a` })).rows).toEqual([{ key: `once-${dialect}-a`, failures: 3 }]);
    expect((await counterByKey(h.db, { key: `once-${dialect}-b` })).rows).toEqual([{ key: `once-${dialect}-b`, failures: 5 }]);
    const inTransaction = await h.db.transaction().execute((trx) => counterByKey(trx, { key: `once-${dialect}-b` }));
    expect(inTransaction.rows).toEqual([{ key: `once-${dialect}-b`, failures: 5 }]);
    expect((await counterByKey(h.db, { key: 'none' })).rows).toEqual([]);
    // Built once for this database (the other dialect's run built its own SQL: `?` against `$1`).
    expect(builds - before).toBe(1);
  });

  it('compiles a variant for each shape', async () => {
    const h = harnesses.get('sqlite')!;
    const counters = compiledOnce((db, args: Record<string, string>, size: number) =>
      db
        .selectFrom('rate_limits')
        .select('key')
        .where(
          'key',
          'in',
          Array.from({ length: size }, (_, i) => args[`key${i}`]!),
        )
        .orderBy('key'),
    );
    await insertCounter(h.db, { key: 'variant-1', failures: 1 });
    await insertCounter(h.db, { key: 'variant-2', failures: 1 });
    expect((await counters(h.db, { key0: 'variant-2' }, 1)).rows).toEqual([{ key: 'variant-2' }]);
    expect((await counters(h.db, { key0: 'variant-1', key1: 'variant-2' }, 2)).rows).toEqual([{ key: 'variant-1' }, { key: 'variant-2' }]);
    expect((await counters(h.db, { key0: 'variant-1' }, 1)).rows).toEqual([{ key: 'variant-1' }]);
  });

  it('still runs the plugins’ result step on every run, and compiles anew under another plugin chain', async () => {
    const h = harnesses.get('sqlite')!;
    const counter = new StatementCounter();
    const withCounter = h.db.withPlugin(counter);
    const before = builds;
    await counterByKey(withCounter, { key: 'x' });
    await counterByKey(withCounter, { key: 'y' });
    expect(counter.count).toBe(2);
    expect(builds - before).toBe(1);
  });

  it('refuses an argument used as anything but a value, and a missing argument', async () => {
    const h = harnesses.get('sqlite')!;
    const windowed = compiledOnce((db, args: { since: number }) =>
      db
        .selectFrom('rate_limits')
        .select('key')
        .where('window_start', '>', args.since - 1_000),
    );
    await expect(windowed(h.db, { since: 5 })).rejects.toThrow('argument "since" was used while building the query');
    await expect(counterByKey(h.db, {} as { key: string })).rejects.toThrow('argument "key" is missing');
  });
});
