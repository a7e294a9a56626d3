import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { codeFor, enableTotpThrough, PASSWORD, registerIn, registerThrough, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { EVENT_TAGS } from '../services/events.js';
import { SESSION_ENDED_NOTICES } from './login-notice.js';

// QA (sessions and remembered devices): a login under way when the password is reset (or 2FA changes, or
// the remembered devices are forgotten) kept the session it created just after the change — the change had
// already ended every other session, so nothing ended this one. Found with the reset committing during the
// login's argon2 (PostgreSQL, two instances); here the change runs at the same point of the request, on
// both databases.
const NEW_PASSWORD = 'a brand new passphrase 8812';
const REFUSED = `${ROUTES.login}?ended=changed`;

describe.each(DIALECTS)('a login racing a change of the account on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  /** Run `change` once, right after the login's password was checked (the owner's reset committing during argon2). */
  function afterThePasswordCheck(change: () => Promise<unknown>): void {
    const accounts = server.services.accounts;
    const verify = accounts.verifyPassword;
    accounts.verifyPassword = async (...args) => {
      accounts.verifyPassword = verify;
      const valid = await verify(...args);
      await change();
      return valid;
    };
  }

  /** Run `change` once, right after an app code was accepted (its step spent), before the session is created. */
  function afterTheCodeWasAccepted(change: () => Promise<unknown>): void {
    const budget = server.services.totpGuessBudget;
    const giveBack = budget.giveBack;
    budget.giveBack = async (...args) => {
      budget.giveBack = giveBack;
      await giveBack(...args);
      await change();
    };
  }

  /** Run `change` once, right after a recovery-code login used up its two-factor token, before the session is created. */
  function afterTheTokenWasUsedUp(change: () => Promise<unknown>): void {
    const tokens = server.services.loginTokens;
    const consume = tokens.consume;
    tokens.consume = async (...args) => {
      tokens.consume = consume;
      const consumed = await consume(...args);
      await change();
      return consumed;
    };
  }

  /** The account's history, oldest first: tags, and the method where there is one. */
  const historyOf = async (userId: string) =>
    (await server.services.events.list(userId, { limit: 200 }))
      .reverse()
      .map((event) => (event.details.method ? `${event.tag} ${event.details.method}` : event.tag));
  const failuresCounted = async (userId: string) =>
    (await server.services.db.selectFrom('rate_limits').select('failures').where('key', '=', `second-factor:account:${userId}`).executeTakeFirst())?.failures;

  const reset = (userId: string) => () => server.services.passwordChanges.setPassword(userId, NEW_PASSWORD, { reason: 'reset' });
  const sessionsOf = async (userId: string) => (await server.services.sessions.listForUser(userId)).length;

  async function expectNotLoggedIn(b: TestBrowser, userId: string) {
    expect(await sessionsOf(userId)).toBe(0);
    expect((await b.get(ROUTES.manageAccount)).status).toBe(303);
    const notice = await b.get(REFUSED);
    expect(notice.text).toContain(SESSION_ENDED_NOTICES.changed);
  }

  it('password only: a reset during the password check leaves the old password logged out', async () => {
    const owner = new TestBrowser(server.url);
    const username = await registerIn(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    const attacker = new TestBrowser(server.url);
    await attacker.get(ROUTES.login);
    afterThePasswordCheck(reset(user.id));
    const login = await attacker.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(login.status).toBe(303);
    expect(login.location).toBe(REFUSED); // was /manage/account/, logged in
    await expectNotLoggedIn(attacker, user.id);
    // The history says what happened: the reset, then a login that was stopped — not "Logged in" (QA: it was
    // recorded before the session was refused).
    expect(await historyOf(user.id)).toEqual([EVENT_TAGS.accountCreated, EVENT_TAGS.passwordReset, `${EVENT_TAGS.loginStopped} password`]);
    // The new password logs in as usual.
    await attacker.get(ROUTES.login);
    expect((await attacker.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: NEW_PASSWORD })).location).toBe(ROUTES.manageAccount);
  });

  it('remembered device: "Forget remembered devices" during the password check leaves that browser logged out', async () => {
    const owner = new TestBrowser(server.url);
    const { username } = await registerThrough(owner, server);
    await enableTotpThrough(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    const device = new TestBrowser(server.url);
    device.cookies.set('latchkey_device', await server.services.rememberedDevices.issue(user, { ip: null, userAgent: null }));
    await device.get(ROUTES.login);
    // What the account page's "Forget remembered devices" does.
    afterThePasswordCheck(() => server.services.rememberedDevices.forgetAll(user, { ip: null, userAgent: null }));
    const before = await sessionsOf(user.id);
    const login = await device.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(login.location).toBe(REFUSED); // was /manage/account/: the second factor skipped by a forgotten device
    expect(await sessionsOf(user.id)).toBe(before);
    expect((await historyOf(user.id)).slice(-2)).toEqual([EVENT_TAGS.rememberedDevicesForgotten, `${EVENT_TAGS.loginStopped} remembered_device`]);
    expect((await device.get(ROUTES.manageAccount)).status).toBe(303);
    // The device is forgotten: the next login asks for the second factor.
    await device.get(ROUTES.login);
    expect((await device.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD })).location).toMatch(
      /^\/account\/two-factor\/\?token=/,
    );
  });

  it('second factor: a reset after the code was accepted leaves that login logged out, and remembers no device', async () => {
    const owner = new TestBrowser(server.url);
    const { username } = await registerThrough(owner, server);
    const { secret } = await enableTotpThrough(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    await owner.post(ROUTES.logout);
    const attacker = new TestBrowser(server.url);
    await attacker.get(ROUTES.login);
    const first = await attacker.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    expect(first.location).toMatch(/^\/account\/two-factor\/\?token=/);
    await attacker.get(first.location!);
    // One wrong code first: a login that is stopped succeeded at nothing, so it must not forget that failure.
    expect((await attacker.post(first.location!, { [FIELDS.totpValue]: codeFor(secret, -10) })).status).toBe(401);
    expect(await failuresCounted(user.id)).toBe(1);
    afterTheCodeWasAccepted(reset(user.id));
    const second = await attacker.post(first.location!, { [FIELDS.totpValue]: codeFor(secret, 1), [FIELDS.rememberDevice]: 'on' });
    expect(second.status).toBe(303);
    expect(second.location).toBe(REFUSED); // was /manage/account/, logged in
    expect(attacker.cookies.has('latchkey_device')).toBe(false);
    await expectNotLoggedIn(attacker, user.id);
    // No "Logged in (authentication app)" for it (QA: recorded before the session was refused), and no device remembered.
    expect((await historyOf(user.id)).slice(-3)).toEqual([
      `${EVENT_TAGS.secondFactorFailure} totp`,
      EVENT_TAGS.passwordReset,
      `${EVENT_TAGS.loginStopped} totp`,
    ]);
    // The right code's attempt was given back (it was no failure) but the earlier failure is not forgotten (it was).
    expect(await failuresCounted(user.id)).toBe(1);
  });

  it('recovery code: a reset after the code was accepted leaves that login logged out and the code unused', async () => {
    const owner = new TestBrowser(server.url);
    const { username } = await registerThrough(owner, server);
    const { codes } = await enableTotpThrough(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    await owner.post(ROUTES.logout);
    const attacker = new TestBrowser(server.url);
    await attacker.get(ROUTES.login);
    const first = await attacker.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    const recovery = `${ROUTES.recoveryCode}${new URL(first.location!, server.url).search}`;
    expect((await attacker.get(recovery)).status).toBe(200);
    const before = await historyOf(user.id);
    afterTheTokenWasUsedUp(reset(user.id));
    const second = await attacker.post(recovery, { [FIELDS.recoveryCodeValue]: codes[0]! });
    expect(second.status).toBe(303);
    expect(second.location).toBe(REFUSED);
    await expectNotLoggedIn(attacker, user.id);
    // The code is burnt with the session or not at all: still unused (it was burnt, "Recovery code used", and
    // "Logged in (recovery code)" recorded, for a login that never got a session).
    expect(await server.services.recoveryCodes.check(user.id, codes[0]!)).toBe('ok');
    expect(await server.services.recoveryCodes.remaining(user.id)).toBe(8);
    expect((await historyOf(user.id)).slice(before.length)).toEqual([EVENT_TAGS.passwordReset, `${EVENT_TAGS.loginStopped} recovery_code`]);
  });

  it('a login posted from a browser logged in to another account ends that session with "Logged out" in its history', async () => {
    const b = new TestBrowser(server.url);
    const first = await registerIn(b);
    const firstUser = (await server.services.accounts.findByUsername(first))!;
    const other = new TestBrowser(server.url);
    const second = await registerIn(other);
    const secondUser = (await server.services.accounts.findByUsername(second))!;
    await other.get(ROUTES.manageAccount);
    expect((await other.post(ROUTES.logout)).status).toBe(303);
    // A login form opened before (the GET would have sent this logged-in browser to its account page); the
    // account page gives this session's form token.
    await b.get(ROUTES.manageAccount);
    const login = await b.post(ROUTES.login, { [FIELDS.username]: second, [FIELDS.password]: PASSWORD });
    expect(login.location).toBe(ROUTES.manageAccount);
    expect(await sessionsOf(firstUser.id)).toBe(0);
    // The first account's session ended: its history says so (it said nothing).
    const [ended] = await server.services.events.list(firstUser.id);
    expect(ended).toMatchObject({ tag: EVENT_TAGS.logout, details: { by: 'login' } });
    // A plain logout records a plain "Logged out", once.
    await b.get(ROUTES.manageAccount);
    expect((await b.post(ROUTES.logout)).status).toBe(303);
    expect((await historyOf(secondUser.id)).slice(-3)).toEqual([EVENT_TAGS.logout, `${EVENT_TAGS.loginSuccess} password`, EVENT_TAGS.logout]);
    expect((await server.services.events.list(secondUser.id))[0]!.details).toEqual({});
  });
});
