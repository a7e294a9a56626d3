import { describe, expect, it } from 'vitest';
import { DIALECTS, type ServiceHarness, useServiceHarness } from '../testing/service-harness.js';
import { softAuthenticator } from '../../../test/src/kit/soft-authenticator.js';
import { accountByAddress, accountsWithAddress, adminEventPage, createAdmin, deletionRecords } from './admin.js';
import { EVENT_TAGS, NO_ORIGIN } from './events.js';

describe.each(DIALECTS)('admin service on %s', (dialect) => {
  let h: ServiceHarness;
  useServiceHarness(dialect, (created) => {
    h = created;
  });

  let serial = 0;
  async function register(options: { totp?: boolean; key?: boolean; codes?: boolean } = {}) {
    const username = `admin-${dialect}-${++serial}`;
    const user = await h.services.accounts.register({ username, email: `${username}@example.org`, password: 'a long enough admin password' }, NO_ORIGIN, {
      emailVerified: true,
    });
    if (options.totp) await h.services.totp.enable(user.id, h.services.totp.generateSecret());
    if (options.key) {
      const key = softAuthenticator();
      const creation = await h.services.webauthn.registrationOptions({ id: user.id, username }, 'Desk key');
      await h.services.webauthn.register(user.id, key.createRegistrationResponse(creation, { origin: h.config.origin }), 'Desk key', NO_ORIGIN);
    }
    if (options.codes) await h.services.recoveryCodes.generate(user.id);
    return user;
  }
  const resets = async (userId: string) =>
    (await h.db.selectFrom('events').select('id').where('user_id', '=', userId).where('tag', '=', EVENT_TAGS.adminTwoFactorReset).execute()).length;
  const resetNotices = async (userId: string) =>
    (await h.db.selectFrom('mail_outbox').select('id').where('user_id', '=', userId).where('kind', '=', 'notice:admin-two-factor-reset').execute()).length;

  it('says what a reset removed and ended', async () => {
    const user = await register({ totp: true, key: true, codes: true });
    await h.services.sessions.create(user.id);
    await h.services.sessions.create(user.id);
    const reset = await h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true });
    expect(reset).toMatchObject({ removed: { totp: true, securityKeys: 1, recoveryCodes: 8 }, sessionsEnded: 2 });
    expect(reset.user.security_epoch).toBeGreaterThan(user.security_epoch);
  });

  it('refuses, when asked to, an account with no second factor: nothing recorded, nothing mailed, epoch unchanged', async () => {
    // Before: "authentication app, security keys and recovery codes removed", an admin event and a notice
    // saying every second factor was removed — for an account that never had one.
    const user = await register();
    await expect(h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('has no second factor'),
    });
    expect(await resets(user.id)).toBe(0);
    expect(await resetNotices(user.id)).toBe(0);
    expect((await h.services.accounts.findById(user.id))!.security_epoch).toBe(user.security_epoch);
    // Other callers keep the old behaviour (sessions ended even so).
    await expect(h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test' })).resolves.toMatchObject({
      removed: { totp: false, securityKeys: 0, recoveryCodes: 0 },
    });
  });

  it('of two resets of one account at once, one resets and mails; the other finds nothing left and is refused', async () => {
    // An operator who runs the command again because the first seemed to hang (or two operators at once).
    const user = await register({ totp: true, key: true, codes: true });
    const outcomes = await Promise.allSettled(
      [1, 2].map(() => h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true })),
    );
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const done = outcomes.find((outcome) => outcome.status === 'fulfilled')!;
    expect(done.value.removed).toEqual({ totp: true, securityKeys: 1, recoveryCodes: 8 });
    expect(await resets(user.id)).toBe(1);
    expect(await resetNotices(user.id)).toBe(1);
  });

  /** Second-factor failures until the short-window pause starts, and `guesses` wrong app codes counted for the year. */
  async function lockOut(userId: string, guesses: number) {
    for (let i = 0; i < h.config.rateLimits.secondFactorPerAccount.max; i++)
      await h.services.rateLimits.attempt('second-factor', { account: userId, ip: null });
    const now = h.clock();
    if (guesses > 0)
      await h.db
        .insertInto('totp_guesses')
        .values(Array.from({ length: guesses }, () => ({ user_id: userId, guessed_at: now })))
        .execute();
    expect(await locksOn(userId)).toEqual({ paused: true, guesses });
  }
  const locksOn = async (userId: string) => ({
    paused: (await h.services.rateLimits.check('second-factor', { account: userId, ip: null })).blocked,
    guesses: (await h.db.selectFrom('totp_guesses').select('id').where('user_id', '=', userId).execute()).length,
  });

  it('lifts the second-factor locks and says which were on', async () => {
    const user = await register({ totp: true });
    await lockOut(user.id, 3);
    const reset = await h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true });
    expect(reset).toMatchObject({ recorded: true, locksLifted: { secondFactorPaused: true, totpGuesses: 3, totpBudgetSpent: false } });
    expect(await locksOn(user.id)).toEqual({ paused: false, guesses: 0 });
  });

  it('a reset cut short after its commit is finished by running it again: the locks lifted, nothing recorded or mailed twice', async () => {
    // Before: the factors were gone, so the second run was refused ("has no second factor … Nothing was
    // changed") and the locks stayed — a TOTP set up again met the spent year's budget at once.
    const user = await register({ totp: true, codes: true });
    await lockOut(user.id, h.services.totpGuessBudget.limit);
    // The process dies between the reset's commit and the lifting of the locks (the service without a transaction to join).
    const cutShort = createAdmin(
      h.db,
      h.services.accounts,
      h.services.events,
      {
        ...h.services.rateLimits,
        resetAccount: async () => {
          throw new Error('killed after the commit');
        },
      },
      h.services.totpGuessBudget,
    );
    await expect(cutShort.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true })).rejects.toThrow(
      'killed after the commit',
    );
    const afterCut = (await h.services.accounts.findById(user.id))!;
    expect((await h.services.accounts.twoFactorStatus(user.id)).enabled).toBe(false);
    expect(await locksOn(user.id)).toEqual({ paused: true, guesses: h.services.totpGuessBudget.limit });
    expect([await resets(user.id), await resetNotices(user.id)]).toEqual([1, 1]);

    const again = await h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true });
    expect(again).toMatchObject({
      recorded: false,
      removed: { totp: false, securityKeys: 0, recoveryCodes: 0 },
      sessionsEnded: 0,
      locksLifted: { secondFactorPaused: true, totpGuesses: h.services.totpGuessBudget.limit, totpBudgetSpent: true },
    });
    expect(await locksOn(user.id)).toEqual({ paused: false, guesses: 0 });
    expect([await resets(user.id), await resetNotices(user.id)]).toEqual([1, 1]);
    // Nothing else changed: remembered devices and sessions made since the reset stay.
    expect((await h.services.accounts.findById(user.id))!.security_epoch).toBe(afterCut.security_epoch);
    // A third run has nothing left to do.
    await expect(h.services.admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true })).rejects.toMatchObject({
      status: 409,
    });
  });

  it('run in a transaction, a reset that fails at the locks leaves everything as it was', async () => {
    // The admin CLI runs it on services bound to one transaction: a failure anywhere undoes the whole reset.
    const user = await register({ totp: true });
    await lockOut(user.id, 2);
    await expect(
      h.db.transaction().execute(async (trx) => {
        const bound = h.services.boundTo(trx);
        const failing = createAdmin(
          trx,
          bound.accounts,
          bound.events,
          {
            ...bound.rateLimits,
            resetAccount: async () => {
              throw new Error('cut at the locks');
            },
          },
          bound.totpGuessBudget,
        );
        return failing.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true });
      }),
    ).rejects.toThrow('cut at the locks');
    expect((await h.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
    expect([await resets(user.id), await resetNotices(user.id)]).toEqual([0, 0]);
    expect(await locksOn(user.id)).toEqual({ paused: true, guesses: 2 });
    // The same, bound to a transaction that commits: everything at once.
    const reset = await h.db
      .transaction()
      .execute((trx) => h.services.boundTo(trx).admin.resetTwoFactor(user.username, { reason: 'video call', actor: 'test', refuseWithoutFactor: true }));
    expect(reset).toMatchObject({ recorded: true, removed: { totp: true }, locksLifted: { secondFactorPaused: true, totpGuesses: 2 } });
    expect(await locksOn(user.id)).toEqual({ paused: false, guesses: 0 });
    expect([await resets(user.id), await resetNotices(user.id)]).toEqual([1, 1]);
  });

  it('refuses a reason longer than it keeps, instead of cutting it', async () => {
    const user = await register({ totp: true });
    await expect(h.services.admin.resetTwoFactor(user.username, { reason: 'x'.repeat(501), actor: 'test' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('500 characters'),
    });
    expect((await h.services.accounts.twoFactorStatus(user.id)).hasTotp).toBe(true);
    const reason = `video call ${'x'.repeat(489)}`;
    await h.services.admin.resetTwoFactor(user.username, { reason, actor: 'test' });
    const [event] = await h.services.events.list(user.id, { limit: 1 });
    expect(event?.details.reason).toBe(reason);
  });

  it('pages and filters events by tag (a prefix takes the tags under it), with the total', async () => {
    const user = await register({ totp: true, codes: true });
    const all = await adminEventPage(h.db, user.id, { limit: 100 });
    expect(all.total).toBe(all.events.length);
    expect(all.events.map((event) => event.tag)).toEqual(await h.services.events.list(user.id).then((events) => events.map((event) => event.tag)));
    const page = await adminEventPage(h.db, user.id, { limit: 1, offset: 1 });
    expect(page).toEqual({ events: [all.events[1]], total: all.total });
    const methods = await adminEventPage(h.db, user.id, { limit: 10, tag: 'account:two_factor' });
    expect(methods.events.map((event) => event.tag)).toEqual([EVENT_TAGS.methodAdded]);
    // "_" is not a wildcard here (LIKE would take "account:twoXfactor").
    expect((await adminEventPage(h.db, user.id, { limit: 10, tag: 'account:two_factor:method_adde' })).total).toBe(0);
    expect((await adminEventPage(h.db, user.id, { limit: 10, tag: 'account' })).total).toBe(all.total);
  });

  it('finds the accounts with an address in any spelling, and the one an address names (verified, else the one primary)', async () => {
    const tag = `${dialect}${++serial}`;
    const owner = await h.services.accounts.register(
      { username: `own-${tag}`, email: `Mail.${tag}@exämple.org`, password: 'a long enough admin password' },
      NO_ORIGIN,
      {
        emailVerified: true,
      },
    );
    const adder = await register();
    await h.services.emails.add(adder.id, `mail.${tag}@xn--exmple-cua.org`, NO_ORIGIN);
    const holders = await accountsWithAddress(h.db, ` MAIL.${tag}@EXA\u0308MPLE.ORG `);
    expect(holders.map((holder) => [holder.user.username, holder.address.email, holder.address.primary, holder.address.verified])).toEqual([
      [owner.username, `Mail.${tag}@xn--exmple-cua.org`, true, true],
      [adder.username, `mail.${tag}@xn--exmple-cua.org`, false, false],
    ]);
    expect(await accountByAddress(h.db, `mail.${tag}@exämple.org`)).toMatchObject({ found: { user: { id: owner.id } } });

    // Only added, never verified: it names no account.
    await h.services.emails.add(adder.id, `added.${tag}@example.org`, NO_ORIGIN);
    expect(await accountByAddress(h.db, `added.${tag}@example.org`)).toMatchObject({ refused: 'unproven', holders: [{ user: { id: adder.id } }] });
    expect(await accountByAddress(h.db, `nobody.${tag}@example.org`)).toEqual({ refused: 'unknown', holders: [] });
    // One unverified primary names its account; two are ambiguous.
    const first = await h.services.accounts.register({
      username: `first-${tag}`,
      email: `shared.${tag}@example.org`,
      password: 'a long enough admin password',
    });
    expect(await accountByAddress(h.db, `shared.${tag}@example.org`)).toMatchObject({ found: { user: { id: first.id } } });
    await h.services.accounts.register({ username: `second-${tag}`, email: `Shared.${tag}@example.org`, password: 'a long enough admin password' });
    expect(await accountByAddress(h.db, `shared.${tag}@example.org`)).toMatchObject({ refused: 'ambiguous', holders: [{}, {}] });
  });

  it('of two administrators verifying one address on two accounts at once, one verifies it; the other is refused with a 409, not a failure', async () => {
    const tag = `${dialect}${++serial}`;
    const [a, b] = [await register(), await register()];
    for (const user of [a, b]) await h.services.emails.add(user.id, `race.${tag}@example.org`, NO_ORIGIN);
    const outcomes = await Promise.allSettled([a, b].map((user) => h.services.emails.markVerified(user.id, `race.${tag}@example.org`, { actor: 'test' })));
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({
      reason: { status: 409, message: 'This address is already verified by another account.' },
    });
  });

  it('finds the deletion kept for administrators by the deleted name, and only its own', async () => {
    const user = await register();
    const other = await register();
    await h.services.accounts.deleteAccount(user, NO_ORIGIN);
    await h.services.accounts.deleteAccount(other, NO_ORIGIN);
    const kept = await deletionRecords(h.db, user.username);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ tag: EVENT_TAGS.accountDeleted, userId: null, details: { username: user.username } });
  });
});
