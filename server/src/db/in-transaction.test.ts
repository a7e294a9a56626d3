import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { inTransaction } from './in-transaction.js';

describe.each(DIALECTS)('inTransaction on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const count = async (prefix: string) =>
    Number(
      (
        await h.db
          .selectFrom('rate_limits')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', 'like', `${prefix}%`)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('joins an open transaction, so an inner write rolls back with the outer one', async () => {
    const prefix = `in-trx-${dialect}-rollback:`;
    await expect(
      h.db.transaction().execute(async (outer) => {
        await inTransaction(outer, async (inner) => {
          expect(inner).toBe(outer);
          await inner
            .insertInto('rate_limits')
            .values({ key: `${prefix}a`, window_start: 0, failures: 0 })
            .execute();
        });
        throw new Error('outer work failed');
      }),
    ).rejects.toThrow('outer work failed');
    expect(await count(prefix)).toBe(0);
  });

  it('opens its own transaction otherwise: all or nothing', async () => {
    const prefix = `in-trx-${dialect}-own:`;
    await expect(
      inTransaction(h.db, async (trx) => {
        expect(trx.isTransaction).toBe(true);
        await trx
          .insertInto('rate_limits')
          .values({ key: `${prefix}a`, window_start: 0, failures: 0 })
          .execute();
        throw new Error('second write failed');
      }),
    ).rejects.toThrow('second write failed');
    expect(await count(prefix)).toBe(0);
    await inTransaction(h.db, (trx) =>
      trx
        .insertInto('rate_limits')
        .values({ key: `${prefix}b`, window_start: 0, failures: 0 })
        .execute(),
    );
    expect(await count(prefix)).toBe(1);
  });
});
