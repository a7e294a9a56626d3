import { describe, expect, it } from 'vitest';
import { holdTransaction, untilSomeoneWaitsOnALock } from '../testing/held-transaction.js';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { StatementCounter } from '../testing/statement-counter.js';
import { EVENT_TAGS } from './events.js';
import { createServices } from './index.js';
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
  useServiceHarness(dialect, (created) => {
    h = created;
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

  it('a session at its epoch is one statement (a login on PostgreSQL: one round trip, no BEGIN and COMMIT around it)', async () => {
    const counter = new StatementCounter();
    const counted = createServices(h.db.withPlugin(counter), h.config, { now: h.clock });
    const user = await newUser();
    await counted.sessions.create(user.id, { securityEpoch: user.security_epoch }); // may purge expired sessions first
    const before = counter.count;
    const { session } = await counted.sessions.create(user.id, { userAgent: 'laptop', eventId: null, securityEpoch: user.security_epoch });
    expect(counter.count - before).toBe(1);
    expect(await h.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirst()).toEqual(session);
  });

  it('without an epoch (callers that checked nothing) a session is created as before', async () => {
    const user = await newUser();
    await h.services.accounts.bumpSecurityEpoch(user.id);
    const { token, session } = await h.services.sessions.create(user.id);
    expect(session.id).toBe(sessionIdFor(token));
    expect(await h.services.sessions.load(token)).not.toBeNull();
  });

  // The account page names each session by its browser and the address its login came from (two sessions
  // of one browser type looked alike, and a User-Agent is the client's to choose). The address is read
  // with the list, in its one statement: the page's statement count is watched, and a lookup per session
  // would grow with the number of sessions.
  it('lists each session with the address of its login event, in one statement however many there are', async () => {
    const counter = new StatementCounter();
    const counted = createServices(h.db.withPlugin(counter), h.config, { now: h.clock });
    const user = await newUser();
    const stranger = await newUser();
    const login = (ip: string | null, userId = user.id) =>
      h.services.events.record({ userId, tag: EVENT_TAGS.loginSuccess, origin: { ip, userAgent: 'test' }, details: { method: 'password' } });
    const laptop = await h.services.sessions.create(user.id, { userAgent: 'laptop', eventId: await login('203.0.113.7') });
    h.clock.advance(1000);
    const ipv6 = await h.services.sessions.create(user.id, { userAgent: 'phone', eventId: await login('2001:db8::7') });
    h.clock.advance(1000);
    const gone = await login('198.51.100.1');
    const eventGone = await h.services.sessions.create(user.id, { userAgent: 'gone', eventId: gone });
    await h.db.deleteFrom('events').where('id', '=', gone).execute();
    h.clock.advance(1000);
    const noAddress = await h.services.sessions.create(user.id, { userAgent: 'no address', eventId: await login(null) });
    h.clock.advance(1000);
    const noEvent = await h.services.sessions.create(user.id, { userAgent: 'no event' });
    h.clock.advance(1000);
    // An event id of another account's login (never written so; the join must not show its address).
    const foreign = await h.services.sessions.create(user.id, { userAgent: 'foreign', eventId: await login('192.0.2.99', stranger.id) });

    const before = counter.count;
    const listed = await counted.sessions.listForUser(user.id);
    expect(counter.count - before).toBe(1);
    expect(listed.map((row) => [row.id, row.user_agent, row.login_ip])).toEqual([
      [foreign.session.id, 'foreign', null],
      [noEvent.session.id, 'no event', null],
      [noAddress.session.id, 'no address', null],
      [eventGone.session.id, 'gone', null],
      [ipv6.session.id, 'phone', '2001:db8::7'],
      [laptop.session.id, 'laptop', '203.0.113.7'],
    ]);
    // Still the whole row, as before the join (the routes read its times and event id).
    expect(listed.at(-1)).toMatchObject({ ...laptop.session, login_ip: '203.0.113.7' });
  });
});
