import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { LoginOutdated, sessionIdFor } from './sessions.js';

// QA (sessions and remembered devices): a password change or reset ends every other session in the
// transaction that moves the account's security epoch, but a login that had checked the old password (or
// a second factor, or a remembered device, under the old epoch) and inserted its session after that
// DELETE kept it — on PostgreSQL even while the reset was still committing. A session is now made only
// while the account is at the epoch its login checked.
const PASSWORD = 'correct horse battery staple';
let counter = 0;
const uniqueName = () => `ses${Date.now().toString(36)}${(counter++).toString(36)}`;

describe.each(DIALECTS)('sessions on %s', (dialect) => {
  let h: ServiceHarness;
  beforeAll(async () => {
    h = await createServiceHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });
  const newUser = () => h.services.accounts.register({ username: uniqueName(), email: 'someone@example.org', password: PASSWORD });
  const sessionsOf = async (userId: string) => (await h.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).map((row) => row.id);

  it('are created only while the account is at the security epoch the login checked', async () => {
    const user = await newUser();
    const first = await h.services.sessions.create(user.id, { securityEpoch: user.security_epoch });
    expect(await h.services.sessions.load(first.token)).not.toBeNull();

    // What a password change, a reset, a 2FA change or "Forget remembered devices" does to the epoch.
    await h.services.accounts.bumpSecurityEpoch(user.id);
    await expect(h.services.sessions.create(user.id, { securityEpoch: user.security_epoch })).rejects.toBeInstanceOf(LoginOutdated);
    expect(await sessionsOf(user.id)).toEqual([first.session.id]); // the refused one left nothing behind

    const moved = (await h.services.accounts.findById(user.id))!;
    const second = await h.services.sessions.create(user.id, { securityEpoch: moved.security_epoch });
    expect(await h.services.sessions.load(second.token)).not.toBeNull();
  });

  it('a login whose session is created while a password reset is committing does not survive the reset', async () => {
    const user = await newUser();
    // The reset's transaction as passwordChanges.setPassword writes it: the epoch moves and every session
    // goes; held open, as while the login's own statements run.
    const reset = await holdTransaction(h.db, async (trx) => {
      await trx
        .updateTable('users')
        .set((eb) => ({ security_epoch: eb('security_epoch', '+', 1) }))
        .where('id', '=', user.id)
        .execute();
      await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    });
    const creating = h.services.sessions.create(user.id, { securityEpoch: user.security_epoch }).then(
      (created) => ({ created }),
      (error: unknown) => ({ error }),
    );
    // PostgreSQL: the creation waits on the reset's row lock (before the fix its INSERT did not wait at all,
    // and committed after the reset's DELETE). SQLite: it queues behind the reset for the one connection.
    await Promise.race([creating, untilSomeoneWaitsOnALock(h.db, dialect)]);
    await reset.release();
    const outcome = await creating;
    expect('error' in outcome ? outcome.error : 'a session was created').toBeInstanceOf(LoginOutdated);
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it('without an epoch (callers that checked nothing) a session is created as before', async () => {
    const user = await newUser();
    await h.services.accounts.bumpSecurityEpoch(user.id);
    const { token, session } = await h.services.sessions.create(user.id);
    expect(session.id).toBe(sessionIdFor(token));
    expect(await h.services.sessions.load(token)).not.toBeNull();
  });
});
