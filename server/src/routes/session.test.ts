import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { codeFor, enableTotpThrough, PASSWORD, registerIn, registerThrough, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
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

  /** Run `change` once, after the second factor was accepted and before the session is created. */
  function beforeTheSession(change: () => Promise<unknown>): void {
    const events = server.services.events;
    const find = events.findLoginEvent;
    events.findLoginEvent = async (...args) => {
      events.findLoginEvent = find;
      await change();
      return find(...args);
    };
  }

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
    beforeTheSession(reset(user.id));
    const second = await attacker.post(first.location!, { [FIELDS.totpValue]: codeFor(secret, 1), [FIELDS.rememberDevice]: 'on' });
    expect(second.status).toBe(303);
    expect(second.location).toBe(REFUSED); // was /manage/account/, logged in
    expect(attacker.cookies.has('latchkey_device')).toBe(false);
    await expectNotLoggedIn(attacker, user.id);
  });
});
