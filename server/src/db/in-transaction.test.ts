import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { inTransaction, TRANSACTION_ATTEMPTS } from './in-transaction.js';
import type { Database } from './schema.js';

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

describe.each(DIALECTS)('inTransaction retries on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const conflict = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

  it('runs the outermost transaction again after a deadlock or serialization failure, a few times at most', async () => {
    let runs = 0;
    await expect(
      inTransaction(h.db, async () => {
        runs++;
        throw conflict();
      }),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(runs).toBe(TRANSACTION_ATTEMPTS);
    runs = 0;
    expect(
      await inTransaction(h.db, async () => {
        runs++;
        if (runs === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
        return 'done';
      }),
    ).toBe('done');
    expect(runs).toBe(2);
  });

  it('never retries a transaction it joined, nor any other error', async () => {
    let runs = 0;
    await expect(
      h.db.transaction().execute((outer) =>
        inTransaction(outer, async () => {
          runs++;
          throw conflict();
        }),
      ),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(runs).toBe(1);
    runs = 0;
    await expect(
      inTransaction(h.db, async () => {
        runs++;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(runs).toBe(1);
  });

  // A real deadlock: this transaction holds row A and waits for row B, which another holds while it then waits
  // for A. PostgreSQL's detector runs in the session that has waited longest (this one, deadlock_timeout after
  // it began waiting) and rolls it back with 40P01; the other then commits, and the retry succeeds.
  it.runIf(dialect === 'postgres')(
    'survives a real deadlock with another transaction: rolled back, run again, committed',
    async () => {
      const prefix = `in-trx-deadlock-${Date.now()}:`;
      const [a, b] = [`${prefix}a`, `${prefix}b`];
      await h.db
        .insertInto('rate_limits')
        .values([a, b].map((key) => ({ key, window_start: 0, failures: 0 })))
        .execute();
      const bump = (trx: Kysely<Database>, key: string) =>
        trx
          .updateTable('rate_limits')
          .set((eb) => ({ failures: eb('failures', '+', 1) }))
          .where('key', '=', key)
          .execute();
      let runs = 0;
      let otherHoldsB!: () => void;
      const bHeld = new Promise<void>((resolve) => {
        otherHoldsB = resolve;
      });
      let aLocked!: () => void;
      const aHeld = new Promise<void>((resolve) => {
        aLocked = resolve;
      });
      const retried = inTransaction(h.db, async (trx) => {
        runs++;
        await bump(trx, a);
        if (runs === 1) {
          aLocked();
          await bHeld;
        }
        await bump(trx, b);
      });
      const other = h.db.transaction().execute(async (trx) => {
        await aHeld;
        await bump(trx, b);
        otherHoldsB();
        // Only once the retried transaction waits for B: it then started waiting first, and is the one rolled back.
        await untilSomeoneWaitsOnALock(h.db, 'postgres');
        await bump(trx, a);
      });
      await Promise.all([retried, other]);
      expect(runs).toBe(2);
      const rows = await h.db.selectFrom('rate_limits').select(['key', 'failures']).where('key', 'in', [a, b]).orderBy('key').execute();
      // Both committed once each: the rolled-back first run left nothing.
      expect(rows.map((row) => Number(row.failures))).toEqual([2, 2]);
    },
    20_000,
  );
});
