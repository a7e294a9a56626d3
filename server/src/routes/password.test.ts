import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { DEFAULT_REQUEST_LIMITS, LIFTED_REQUEST_LIMITS } from '../config.js';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { readOutbox } from '../testing/read-outbox.js';
import { requestResetLinks } from '../testing/reset-links.js';
import { codeFor, enableTotpThrough, PASSWORD, registerThrough, startTestServer, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { PASSWORD_ROUTES, USERNAME_OR_EMAIL } from '../views/password-routes.js';

const NEW_PASSWORD = 'a brand new long passphrase';

describe.each(DIALECTS)('password change and reset routes on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  const browser = () => new TestBrowser(server.url);
  const userOf = async (username: string) => (await server.services.accounts.findByUsername(username))!;
  /** A reset link for `username`, as the mail would carry it. */
  const linkFor = async (username: string): Promise<string> => {
    const links = await requestResetLinks(server.services, username);
    expect(links).toHaveLength(1);
    return links[0]!.path;
  };
  const logIn = async (b: TestBrowser, username: string, password: string) => {
    await b.get(ROUTES.login);
    return b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: password });
  };

  describe(PASSWORD_ROUTES.changePassword, () => {
    it('needs the current password, refuses bad new ones, then ends every other session and remembered device', async () => {
      const a = browser();
      const { username } = await registerThrough(a, server);
      const other = browser();
      expect((await logIn(other, username, PASSWORD)).location).toBe(ROUTES.manageAccount);
      const page = await a.get(PASSWORD_ROUTES.changePassword);
      expect(page.status).toBe(200);
      expect(page.text).toContain('autocomplete="current-password"');

      const post = (fields: Record<string, string>) => a.post(PASSWORD_ROUTES.changePassword, fields);
      const empty = await post({});
      expect(empty.status).toBe(400);
      expect(empty.text).toContain('Enter your current password.');
      const mismatch = await post({ [FIELDS.password]: PASSWORD, [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: `${NEW_PASSWORD}x` });
      expect(mismatch.status).toBe(400);
      expect(mismatch.text).toContain('do not match');
      const same = await post({ [FIELDS.password]: PASSWORD, [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: PASSWORD });
      expect(same.status).toBe(400);
      expect(same.text).toContain('must differ');
      const short = await post({ [FIELDS.password]: PASSWORD, [FIELDS.newPassword]: 'too short', [FIELDS.passwordConfirm]: 'too short' });
      expect(short.status).toBe(400);
      expect(short.text).toContain('at least 12');
      const common = await post({ [FIELDS.password]: PASSWORD, [FIELDS.newPassword]: 'Password1234!', [FIELDS.passwordConfirm]: 'Password1234!' });
      expect(common.status).toBe(400);
      expect(common.text).toContain('commonly used or breached');
      const wrong = await post({ [FIELDS.password]: 'not my password', [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: NEW_PASSWORD });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('aria-invalid="true"');
      // Nothing changed so far: the other browser is still in.
      expect((await other.get(ROUTES.manageAccount)).status).toBe(200);

      const done = await post({ [FIELDS.password]: PASSWORD, [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: NEW_PASSWORD });
      expect(done.status).toBe(303);
      expect(done.location).toBe(ROUTES.manageAccount);
      const account = await a.get(ROUTES.manageAccount);
      expect(account.status).toBe(200);
      expect(account.text).toContain('Password changed. 1 other session was logged out');
      expect(account.text).toContain('>Password changed<');
      expect((await other.get(ROUTES.manageAccount)).status).toBe(303);
      const user = await userOf(username);
      expect(await server.services.accounts.verifyPassword(user, NEW_PASSWORD)).toBe(true);
    });

    it('is behind the login', async () => {
      const anonymous = browser();
      expect((await anonymous.get(PASSWORD_ROUTES.changePassword)).status).toBe(303);
      await anonymous.get(ROUTES.login);
      expect((await anonymous.post(PASSWORD_ROUTES.changePassword, { [FIELDS.password]: PASSWORD })).status).toBe(401);
    });
  });

  describe('reset by mailed link', () => {
    it('answers the same words and status for a known and an unknown account', async () => {
      const b = browser();
      const { username } = await registerThrough(b, server);
      const anonymous = browser();
      await anonymous.get(PASSWORD_ROUTES.requestPasswordReset);
      const known = await anonymous.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: username });
      const unknown = await anonymous.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: 'nobody-at-all' });
      const byEmail = await anonymous.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: `${username}@example.org` });
      expect(known.status).toBe(200);
      expect(unknown.status).toBe(200);
      expect(byEmail.status).toBe(200);
      const words = (text: string) => /<main id="main">([\s\S]*)<\/main>/.exec(text)![1];
      expect(words(known.text)).toBe(words(unknown.text));
      expect(words(known.text)).toContain('If an account matches');
      const empty = await anonymous.post(PASSWORD_ROUTES.requestPasswordReset, {});
      expect(empty.status).toBe(400);
      expect(empty.text).toContain('aria-invalid="true"');
    });

    it('sets a new password once, ends every session, and the next login still asks for the second factor', async () => {
      const b = browser();
      const { username } = await registerThrough(b, server);
      const { secret } = await enableTotpThrough(b);
      const link = await linkFor(username);
      const visitor = browser();
      const page = await visitor.get(link);
      expect(page.status).toBe(200);
      expect(page.text).toContain(username);
      const mismatch = await visitor.post(link, { [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: 'something else entirely' });
      expect(mismatch.status).toBe(400);
      const weak = await visitor.post(link, { [FIELDS.newPassword]: `${username}-password`, [FIELDS.passwordConfirm]: `${username}-password` });
      expect(weak.status).toBe(400);
      expect(weak.text).toContain('must not contain your username');
      const done = await visitor.post(link, { [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: NEW_PASSWORD });
      expect(done.status).toBe(303);
      expect(done.location).toBe(PASSWORD_ROUTES.resetPasswordDone);
      expect((await visitor.get(done.location!)).text).toContain('Your password was reset');
      // The browser that was logged in is out; the old password fails; the new one leads to the second factor.
      expect((await b.get(ROUTES.manageAccount)).status).toBe(303);
      expect((await logIn(visitor, username, PASSWORD)).status).toBe(401);
      const login = await logIn(visitor, username, NEW_PASSWORD);
      expect(login.location).toMatch(/^\/account\/two-factor\/\?token=/);
      const second = await visitor.post(login.location!, { [FIELDS.totpValue]: codeFor(secret, 1) });
      expect(second.status).toBe(303);
      // The link works once.
      const reused = await browser().get(link);
      expect(reused.status).toBe(410);
      expect(reused.text).toContain('Reset link already used');
      expect(reused.text).toContain(`href="${PASSWORD_ROUTES.requestPasswordReset}"`);
    });

    it('gives expired, stale, forged, damaged, missing and other-account links their own 4xx page', async () => {
      const b = browser();
      const { username } = await registerThrough(b, server);
      const stale = await linkFor(username);
      await server.services.passwordChanges.setPassword((await userOf(username)).id, NEW_PASSWORD, { reason: 'change' });
      const staleAnswer = await browser().get(stale);
      expect(staleAnswer.status).toBe(409);
      expect(staleAnswer.text).toContain('Password changed since this link was sent');

      const fresh = await linkFor(username);
      const token = new URLSearchParams(fresh.split('?')[1]).get('token')!;
      const [body] = token.split('.');
      const forged = await browser().get(`${PASSWORD_ROUTES.resetPassword}?token=${body}.${'A'.repeat(43)}`);
      expect(forged.status).toBe(400);
      expect(forged.text).toContain('Reset link not valid');
      const damaged = await browser().get(`${PASSWORD_ROUTES.resetPassword}?token=${token.slice(0, 40)}`);
      expect(damaged.status).toBe(400);
      expect(damaged.text).toContain('Reset link damaged');
      const missing = await browser().get(PASSWORD_ROUTES.resetPassword);
      expect(missing.status).toBe(400);
      expect(missing.text).toContain('Reset link incomplete');
      const repeated = await browser().get(`${fresh}&token=x`);
      expect(repeated.status).toBe(400);

      const someoneElse = browser();
      await registerThrough(someoneElse, server);
      const other = await someoneElse.get(fresh);
      expect(other.status).toBe(409);
      expect(other.text).toContain('This reset link is for another account');
      expect((await someoneElse.post(fresh, { [FIELDS.newPassword]: 'another long password', [FIELDS.passwordConfirm]: 'another long password' })).status).toBe(
        409,
      );
      // Still usable by the right person afterwards.
      expect((await browser().get(fresh)).status).toBe(200);

      const expiring = await linkFor(username);
      const realNow = Date.now;
      try {
        Date.now = () => realNow() + 61 * 60_000;
        const expired = await browser().get(expiring);
        expect(expired.status).toBe(410);
        expect(expired.text).toContain('Reset link expired');
      } finally {
        Date.now = realNow;
      }
    });

    it('a link dies once the account is logged in to after it was sent (a wrong password does not count), as Warehouse binds its to the last login', async () => {
      const { username } = await registerThrough(browser(), server);
      const link = await linkFor(username);
      expect((await logIn(browser(), username, 'not the password at all')).location).not.toBe(ROUTES.manageAccount);
      expect((await browser().get(link)).status).toBe(200);
      expect((await logIn(browser(), username, PASSWORD)).location).toBe(ROUTES.manageAccount);
      const holder = browser();
      // A form page first, for the CSRF token the refusal page (no form) does not set.
      await holder.get(ROUTES.requestPasswordReset);
      const page = await holder.get(link);
      expect(page.status).toBe(409);
      expect(page.text).toContain('Logged in since this link was sent');
      const posted = await holder.post(link, { [FIELDS.newPassword]: NEW_PASSWORD, [FIELDS.passwordConfirm]: NEW_PASSWORD });
      expect(posted.status).toBe(409);
      expect(await server.services.accounts.verifyPassword(await userOf(username), PASSWORD)).toBe(true);
      // A link asked for after that login works.
      expect((await browser().get(await linkFor(username))).status).toBe(200);
    });

    it('the login page links to "Forgot password?"', async () => {
      const login = await browser().get(ROUTES.login);
      expect(login.text).toContain(`href="${PASSWORD_ROUTES.requestPasswordReset}">Forgot password?`);
    });
  });

  it('limits reset requests per name asked for, known or not, with 429 and Retry-After', async () => {
    const limited = await startTestServer(dialect, {
      requestLimits: {
        ...LIFTED_REQUEST_LIMITS,
        'password-reset': { ...LIFTED_REQUEST_LIMITS['password-reset'], perSubject: DEFAULT_REQUEST_LIMITS['password-reset'].perSubject! },
      },
    });
    try {
      const b = new TestBrowser(limited.server.url);
      const { username } = await registerThrough(b, limited.server);
      const max = DEFAULT_REQUEST_LIMITS['password-reset'].perSubject!.max;
      await b.get(PASSWORD_ROUTES.requestPasswordReset);
      for (const name of [username, 'no-such-account-at-all']) {
        for (let i = 0; i < max; i++) expect((await b.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: name })).status).toBe(200);
        const blocked = await b.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: ` ${name.toUpperCase()} ` });
        expect(blocked.status).toBe(429);
        expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(blocked.text).toContain('Too many password-reset requests');
      }
      const user = (await limited.server.services.accounts.findByUsername(username))!;
      const rows = await limited.server.services.db.selectFrom('password_resets').select('id').where('user_id', '=', user.id).execute();
      expect(rows).toHaveLength(max);
    } finally {
      await limited.close();
    }
  });

  it('answers the same whoever a name belongs to: counted per name as typed, while one account gets at most 3 links an hour, silently', async () => {
    const limited = await startTestServer(dialect, {
      requestLimits: {
        ...LIFTED_REQUEST_LIMITS,
        'password-reset': { ...LIFTED_REQUEST_LIMITS['password-reset'], perSubject: DEFAULT_REQUEST_LIMITS['password-reset'].perSubject! },
        'password-reset-mail': DEFAULT_REQUEST_LIMITS['password-reset-mail'],
      },
    });
    try {
      const { services } = limited.server;
      const b = new TestBrowser(limited.server.url);
      const { username } = await registerThrough(b, limited.server);
      const user = (await services.accounts.findByUsername(username))!;
      const primary = `${username}@example.org`;
      const second = `${username}.second@example.org`;
      await services.emails.add(user.id, second, { ip: null, userAgent: null });
      await services.emails.markVerified(user.id, second);
      const max = DEFAULT_REQUEST_LIMITS['password-reset'].perSubject!.max;
      const mailCap = DEFAULT_REQUEST_LIMITS['password-reset-mail'].perSubject!.max;
      expect([max, mailCap]).toEqual([3, 3]);
      const ask = (name: string) => b.post(PASSWORD_ROUTES.requestPasswordReset, { [USERNAME_OR_EMAIL]: name });
      const sentPage = (response: { status: number; text: string }) => ({ status: response.status, sent: /Check your e-mail/.test(response.text) });
      await b.get(PASSWORD_ROUTES.requestPasswordReset);
      // Three requests for the public username spend that name's allowance and the account's mail cap.
      for (let i = 0; i < max; i++) expect(sentPage(await ask(username))).toEqual({ status: 200, sent: true });
      expect((await ask(username)).status).toBe(429);
      // QA finding 2: the account's own addresses answered 429 here (one shared allowance), strangers'
      // addresses 200, so anyone could test which private address belongs to a public username.
      for (const name of [primary, second.toUpperCase(), 'nobody-here@example.org'])
        expect(sentPage(await ask(name)), name).toEqual({ status: 200, sent: true });
      // …and the owner still gets no more than the cap: the requests by address sent nothing.
      const rows = await services.db.selectFrom('password_resets').select('id').where('user_id', '=', user.id).execute();
      expect(rows).toHaveLength(mailCap);
      const mailed = await Promise.all([primary, second].map((to) => readOutbox(services, { to, kind: 'password-reset' })));
      expect(mailed.flat()).toHaveLength(mailCap);
      // Known or not, each name as typed gets the same allowance and the same refusal.
      for (const name of [primary, 'nobody-here@example.org']) {
        for (let i = 1; i < max; i++) expect((await ask(name)).status).toBe(200);
        const blocked = await ask(name);
        expect(blocked.status).toBe(429);
        expect(blocked.text).toContain('Too many password-reset requests');
      }
    } finally {
      await limited.close();
    }
  });
});
