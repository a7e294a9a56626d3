import { describe, expect, it } from 'vitest';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { uniqueName } from '../testing/unique-name.js';
import { lockAccountRow } from './lock-account-row.js';

describe.each(DIALECTS)('lockAccountRow on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  const newAccount = () => {
    const name = uniqueName('lock');
    return h.services.accounts.register({ username: name, email: `${name}@example.org`, password: 'correct horse battery staple' });
  };

  it('is refused outside a transaction, where its lock would end with its own statement', async () => {
    const user = await newAccount();
    await expect(lockAccountRow(h.db, user.id)).rejects.toThrow(/needs a transaction/);
  });

  it('makes a second change of the account wait until the first one holding its row has committed', async () => {
    const user = await newAccount();
    const order: string[] = [];
    const first = await holdTransaction(h.db, async (trx) => {
      await lockAccountRow(trx, user.id);
      order.push('first locked');
    });
    const second = h.db.transaction().execute(async (trx) => {
      await lockAccountRow(trx, user.id);
      order.push('second locked');
    });
    await untilSomeoneWaitsOnALock(h.db, dialect);
    order.push('first commits');
    await first.release();
    await second;
    expect(order).toEqual(['first locked', 'first commits', 'second locked']);
  });
});
