import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hmac } from '../services/keys.js';
import { ARGON2ID, hashHasCost } from '../services/passwords.js';
import { TestBrowser } from '../testing/browser.js';
import { expireReauthWindow } from '../testing/expire-reauth-window.js';
import {
  codeFor,
  codesOnPage,
  enableTotpThrough,
  PASSWORD,
  registerIn,
  registerThrough,
  startTestServer,
  uniqueName,
  useTestServer,
} from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { DEFAULT_RATE_LIMITS } from '../config.js';

const CSP = "default-src 'self';script-src 'self';object-src 'none';frame-ancestors 'none';form-action 'self';base-uri 'none'";

describe.each(DIALECTS)('HTTP routes on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  const browser = () => new TestBrowser(server.url);

  const register = (b: TestBrowser) => registerThrough(b, server);
  const enableTotp = enableTotpThrough;

  /** Log in with the password; returns the two-factor URL (with ?token=…) or the final location. */
  async function passwordStep(b: TestBrowser, username: string, extra: Record<string, string> = {}) {
    await b.get(ROUTES.login);
    return b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD, ...extra });
  }

  /** The last proof of the password is over 5 minutes old: security changes need it again. */
  async function expireReauthWindowOf(username: string) {
    await expireReauthWindow(server.services.db, (await server.services.accounts.findByUsername(username))!.id);
  }

  /**
   * QA finding 4: a page loaded inside the 5-minute window has no password field; submitted after it,
   * a missing and then a wrong password must each bring back the account page with the field, its
   * message and focus (the 4xx the other in-place refusals use), never a dead-end message page.
   */
  async function expectPasswordAskedInPlace(b: TestBrowser, username: string, action: string, fieldId: string, extra: Record<string, string> = {}) {
    const loaded = await b.get(ROUTES.manageAccount);
    expect(loaded.text).not.toContain(`id="${fieldId}"`);
    await expireReauthWindowOf(username);
    const refusals: [Record<string, string>, number, string][] = [
      [{}, 400, 'Enter your password to confirm.'],
      [{ [FIELDS.password]: 'wrong password!' }, 401, 'That password is not correct.'],
    ];
    for (const [password, status, message] of refusals) {
      const refused = await b.post(action, { ...extra, ...password });
      expect(refused.status).toBe(status);
      expect(refused.text).toContain('<h1>Account security</h1>');
      expect(refused.text).toMatch(
        new RegExp(
          `<input id="${fieldId}" name="password" type="password"[^>]*autofocus[^>]*aria-invalid="true" aria-describedby="${fieldId}-hint ${fieldId}-error"`,
        ),
      );
      expect(refused.text).toContain(`<p class="field-error" id="${fieldId}-error">${message}</p>`);
    }
  }

  async function logout(b: TestBrowser) {
    await b.get(ROUTES.manageAccount);
    const response = await b.post(ROUTES.logout);
    expect(response.status).toBe(303);
  }

  describe('every page', () => {
    it('sends CSP, framing and referrer headers, no x-powered-by, and HttpOnly SameSite=Lax cookies', async () => {
      const response = await browser().get(ROUTES.login);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(CSP);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('strict-transport-security')).toBeNull();
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('cache-control')).toBe('no-store');
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('latchkey_session='));
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(cookie).not.toMatch(/Secure/);
      expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(response.text).not.toMatch(/\sstyle=/);
    });

    it('serves the stylesheet and the icon every page links', async () => {
      const response = await browser().get('/static/latchkey.css');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/css/);
      const page = await browser().get(ROUTES.login);
      const icon = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml"/.exec(page.text)?.[1];
      expect(icon).toBe('/static/favicon.svg');
      const svg = await browser().get(icon!);
      expect(svg.status).toBe(200);
      expect(svg.headers.get('content-type')).toMatch(/image\/svg\+xml/);
      expect(svg.text).toMatch(/^<svg [^>]*viewBox="0 0 128 128"><title>Latchkey<\/title>/);
    });

    it('answers unknown paths with a 404 page or JSON', async () => {
      const page = await browser().get('/nope');
      expect(page.status).toBe(404);
      expect(page.text).toContain('There is no page at this address.');
      const json = await browser().get('/nope', { accept: 'application/json' });
      expect(json.status).toBe(404);
      expect(JSON.parse(json.text)).toEqual({ fail: { errors: ['There is no page at this address.'] } });
    });
  });

  describe(ROUTES.healthz, () => {
    it('is 200 {ok:true} when the database answers', async () => {
      const response = await browser().get(ROUTES.healthz);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text)).toEqual({ ok: true });
    });
  });

  describe(ROUTES.register, () => {
    it('shows the form and creates an account with a fresh session', async () => {
      const b = browser();
      const page = await b.get(ROUTES.register);
      expect(page.status).toBe(200);
      expect(page.text).toContain('name="new_password"');
      const anonymous = b.cookies.get('latchkey_session');
      await register(b);
      expect(b.cookies.get('latchkey_session')).not.toBe(anonymous);
      const account = await b.get(ROUTES.manageAccount);
      expect(account.status).toBe(200);
      expect(account.text).toContain('Account created');
    });

    it.each([
      [{}, 400, 'Enter a username.'],
      [
        { [FIELDS.username]: ['a', 'b'], [FIELDS.email]: 'a@example.org', [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: PASSWORD },
        400,
        'must be a single text value',
      ],
      [
        { [FIELDS.username]: 'x'.repeat(51), [FIELDS.email]: 'a@example.org', [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: PASSWORD },
        400,
        'too long',
      ],
      [{ [FIELDS.username]: 'okname1', [FIELDS.email]: 'nope', [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: PASSWORD }, 400, 'valid email'],
      [{ [FIELDS.username]: 'okname2', [FIELDS.email]: 'a@example.org', [FIELDS.newPassword]: 'short', [FIELDS.passwordConfirm]: 'short' }, 400, 'at least 12'],
      [
        { [FIELDS.username]: 'okname3', [FIELDS.email]: 'a@example.org', [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: `${PASSWORD}x` },
        400,
        'do not match',
      ],
    ])('refuses %j with %i and a clear message', async (fields, status, message) => {
      const b = browser();
      await b.get(ROUTES.register);
      const response = await b.post(ROUTES.register, fields as Record<string, string>);
      expect(response.status).toBe(status);
      expect(response.text).toContain(message);
      expect(response.text).toContain('role="alert"');
    });

    it("shows every field's error at once, keeps what is not secret, marks the fields and focuses the first", async () => {
      const first = browser();
      const { username: taken } = await register(first);
      const b = browser();
      await b.get(ROUTES.register);
      const response = await b.post(ROUTES.register, {
        [FIELDS.username]: taken.toUpperCase(),
        [FIELDS.email]: 'not-an-address',
        [FIELDS.newPassword]: 'short pass',
        [FIELDS.passwordConfirm]: 'different',
      });
      expect(response.status).toBe(400);
      const messages = ['already taken', 'valid email address', 'at least 12 characters', 'do not match'];
      for (const message of messages) expect(response.text).toContain(message);
      // The summary lists them in the form's order.
      const summary = /<div class="notice notice-error" role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(response.text)?.[1] ?? '';
      const positions = messages.map((message) => summary.indexOf(message));
      expect(positions.every((position) => position >= 0)).toBe(true);
      expect([...positions].sort((x, y) => x - y)).toEqual(positions);
      for (const name of [FIELDS.username, FIELDS.email, FIELDS.newPassword, FIELDS.passwordConfirm]) {
        const input = new RegExp(`<input id="field-${name}"[^>]*>`).exec(response.text)?.[0] ?? '';
        expect(input).toContain('aria-invalid="true"');
        expect(input).toMatch(new RegExp(`aria-describedby="[^"]*field-${name}-error`));
        expect(response.text).toContain(`id="field-${name}-error"`);
      }
      expect(response.text.match(/autofocus/g)).toHaveLength(1);
      expect(response.text).toMatch(/<input id="field-username"[^>]*autofocus/);
      expect(response.text).toContain(`value="${taken.toUpperCase()}"`);
      expect(response.text).toContain('value="not-an-address"');
      expect(response.text).not.toContain('short pass');
      expect(response.text).not.toContain('value="different"');
    });

    it('reports a missing field together with the rules the other fields break', async () => {
      const b = browser();
      await b.get(ROUTES.register);
      const response = await b.post(ROUTES.register, { [FIELDS.username]: 'bad name!', [FIELDS.newPassword]: 'short', [FIELDS.passwordConfirm]: 'short' });
      expect(response.status).toBe(400);
      for (const message of ['The username may contain', 'Enter an email address.', 'at least 12 characters']) expect(response.text).toContain(message);
      expect(response.text).not.toContain('do not match');
    });

    it('refuses a taken username (any case) with 409', async () => {
      const first = browser();
      const { username } = await register(first);
      const b = browser();
      await b.get(ROUTES.register);
      const response = await b.post(ROUTES.register, {
        [FIELDS.username]: username.toUpperCase(),
        [FIELDS.email]: 'x@example.org',
        [FIELDS.newPassword]: PASSWORD,
        [FIELDS.passwordConfirm]: PASSWORD,
      });
      expect(response.status).toBe(409);
      expect(response.text).toContain('already taken');
    });

    it('refuses a missing or wrong CSRF token with 403', async () => {
      const b = browser();
      await b.get(ROUTES.register);
      const fields = { [FIELDS.username]: uniqueName(), [FIELDS.email]: 'a@example.org', [FIELDS.newPassword]: PASSWORD, [FIELDS.passwordConfirm]: PASSWORD };
      for (const csrf of [false, '', 'forged', browser().csrfToken || 'x'.repeat(43)] as const) {
        const response = await b.post(ROUTES.register, fields, { csrf });
        expect(response.status).toBe(403);
        expect(response.text).toContain('did not come from this site');
      }
      // A token from another browser is refused too.
      const other = browser();
      await other.get(ROUTES.register);
      expect((await b.post(ROUTES.register, fields, { csrf: other.csrfToken })).status).toBe(403);
    });

    it('answers oversized, malformed and wrongly typed bodies with 4xx, never 500', async () => {
      const b = browser();
      await b.get(ROUTES.register);
      const big = await b.post(ROUTES.register, { [FIELDS.username]: 'x'.repeat(20_000) });
      expect(big.status).toBe(413);
      expect(big.text).toContain('too large');
      const json = await b.raw('POST', ROUTES.register, '{"username":', { 'content-type': 'application/json', 'x-csrf-token': b.csrfToken });
      expect(json.status).toBe(400);
      expect(JSON.parse(json.text)).toEqual({ fail: { errors: ['What you sent is not valid JSON.'] } });
      const many = await b.raw('POST', ROUTES.register, Array.from({ length: 60 }, (_, i) => `f${i}=1`).join('&'), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(many.status).toBe(413);
      const textBody = await b.raw('POST', ROUTES.register, 'hello', { 'content-type': 'text/plain', 'x-csrf-token': b.csrfToken });
      expect(textBody.status).toBe(400);
      expect(textBody.text).toContain('Enter a username.');
    });
  });

  describe(ROUTES.login, () => {
    it('logs in without 2FA, rotating the session id, honouring a same-site next', async () => {
      const b = browser();
      const { username } = await register(b);
      await logout(b);
      const before = b.cookies.get('latchkey_session');
      const response = await passwordStep(b, username, { [FIELDS.next]: '/manage/account/?tab=1' });
      expect(response.status).toBe(303);
      expect(response.location).toBe('/manage/account/?tab=1');
      expect(b.cookies.get('latchkey_session')).not.toBe(before);
    });

    it('accepts the password in either Unicode form: set precomposed, typed decomposed, and back (NIST SP 800-63B 5.1.1.2)', async () => {
      const composed = 'Caf\u00e9 au lait, tr\u00e8s chaud';
      const decomposed = composed.normalize('NFD');
      for (const [set, typed] of [
        [composed, decomposed],
        [decomposed, composed],
      ] as const) {
        const b = browser();
        const username = await registerIn(b, set);
        await logout(b);
        await b.get(ROUTES.login);
        const login = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: typed });
        expect(login.status).toBe(303);
        expect(login.location).toBe(ROUTES.manageAccount);
      }
    });

    it('upgrades an outdated password hash at the next login, once, without it counting as a password change', async () => {
      const decomposed = 'Caf\u00e9 au lait, tr\u00e8s chaud'.normalize('NFD');
      const b = browser();
      const username = await registerIn(b, decomposed);
      await logout(b);
      const before = (await server.services.accounts.findByUsername(username))!;
      const storedHash = async () => (await server.services.accounts.findByUsername(username))!.password_hash;
      // As stored before normalisation (the raw text) and at another cost than the configured one.
      const outdated = await argon2Hash(decomposed, { algorithm: ARGON2ID, memoryCost: 2048, timeCost: 1, parallelism: 1 });
      await server.services.db.updateTable('users').set({ password_hash: outdated }).where('id', '=', before.id).execute();

      const login = async () => {
        await b.get(ROUTES.login);
        const response = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: decomposed });
        await logout(b);
        return response;
      };
      expect((await login()).location).toBe(ROUTES.manageAccount);
      const upgraded = await storedHash();
      expect(upgraded).not.toBe(outdated);
      expect(hashHasCost(upgraded, server.services.config.argon2)).toBe(true);
      expect(await server.services.passwords.verify(upgraded, decomposed.normalize('NFKC'))).toEqual({ ok: true, outdated: false });
      const after = (await server.services.accounts.findByUsername(username))!;
      expect({ epoch: after.security_epoch, changedAt: after.password_changed_at }).toEqual({
        epoch: before.security_epoch,
        changedAt: before.password_changed_at,
      });
      // Up to date now: the next login writes nothing.
      expect((await login()).location).toBe(ROUTES.manageAccount);
      expect(await storedHash()).toBe(upgraded);
      // A wrong password never rewrites anything.
      await server.services.db.updateTable('users').set({ password_hash: outdated }).where('id', '=', before.id).execute();
      await b.get(ROUTES.login);
      expect((await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: 'not the password at all' })).status).toBe(401);
      expect(await storedHash()).toBe(outdated);
    });

    it.each([
      '//evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '/%0d%0aSet-Cookie:x=1',
      ' /x',
      '/.//evil.example',
      '/..//evil.example/x',
    ])('ignores the open redirect next=%j', async (next) => {
      const b = browser();
      const { username } = await register(b);
      await logout(b);
      const response = await passwordStep(b, username, { [FIELDS.next]: next });
      expect(response.status).toBe(303);
      expect(response.location?.startsWith('/')).toBe(true);
      expect(response.location?.startsWith('//')).toBe(false);
      expect(response.location).not.toContain('evil');
      expect(response.location).not.toMatch(/[\r\n]/);
    });

    it('says the same for a wrong password and an unknown user (401)', async () => {
      const b = browser();
      const { username } = await register(b);
      await logout(b);
      await b.get(ROUTES.login);
      const wrong = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: 'not the password' });
      const unknown = await b.post(ROUTES.login, { [FIELDS.username]: `${username}zz`, [FIELDS.password]: 'not the password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.text).toContain('The username or password is incorrect.');
      expect(unknown.text).toContain('The username or password is incorrect.');
      expect(wrong.text).toContain(`value="${username}"`);
    });

    it('refuses missing fields with 400', async () => {
      const b = browser();
      await b.get(ROUTES.login);
      const response = await b.post(ROUTES.login, { [FIELDS.username]: 'someone' });
      expect(response.status).toBe(400);
      expect(response.text).toContain('Enter your password.');
    });

    it('locks an account after 10 wrong passwords with 429 and a clear message, recorded as an event', async () => {
      const b = browser();
      const { username } = await register(b);
      await logout(b);
      await b.get(ROUTES.login);
      for (let i = 0; i < DEFAULT_RATE_LIMITS.passwordPerAccount.max; i++) {
        expect((await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: `wrong ${i}` })).status).toBe(401);
      }
      const locked = await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.text).toContain('Too many failed attempts. Try again in 15 minutes.');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
      const user = await server.services.accounts.findByUsername(username);
      const tags = (await server.services.events.list(user!.id)).map((event) => event.tag);
      expect(tags).toContain('account:lockout');
      expect(tags.filter((tag) => tag === 'account:login:failure')).toHaveLength(10);
    });
  });

  describe(ROUTES.logout, () => {
    it('destroys the session', async () => {
      const b = browser();
      await register(b);
      await logout(b);
      const account = await b.get(ROUTES.manageAccount);
      expect(account.status).toBe(303);
      expect(account.location).toBe(`${ROUTES.login}?next=%2Fmanage%2Faccount%2F`);
    });

    it('needs the CSRF token', async () => {
      const b = browser();
      await register(b);
      expect((await b.post(ROUTES.logout, {}, { csrf: false })).status).toBe(403);
      expect((await b.get(ROUTES.manageAccount)).status).toBe(200);
    });

    it('GET shows a page with a "Log out" button; afterwards the login page says so', async () => {
      const b = browser();
      const { username } = await register(b);
      const page = await b.get(ROUTES.logout);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`<form method="post" action="${ROUTES.logout}"`);
      expect(page.text).toMatch(/<button type="submit" class="button button-primary" autofocus>Log out<\/button>/);
      expect(page.text).toContain(username);
      const out = await b.post(ROUTES.logout);
      expect(out.location).toBe(`${ROUTES.login}?ended=logout`);
      const login = await b.get(out.location!);
      expect(login.text).toContain('You have logged out.');
      expect((await b.get(ROUTES.login)).text).not.toContain('You have logged out.');
      const anonymous = await b.get(ROUTES.logout);
      expect(anonymous.status).toBe(200);
      expect(anonymous.text).toContain('You are not logged in.');
      expect(anonymous.text).not.toContain(`action="${ROUTES.logout}"`);
    });

    it('only shows the fixed notices, never text from the query', async () => {
      const page = await browser().get(`${ROUTES.login}?ended=%3Cb%3Ehacked`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('hacked');
      expect(page.text).not.toContain('notice-success');
    });
  });

  describe(ROUTES.home, () => {
    it('offers log in and register, or the account when logged in', async () => {
      const b = browser();
      const anonymous = await b.get(ROUTES.home);
      expect(anonymous.status).toBe(200);
      expect(anonymous.text).toContain(`href="${ROUTES.login}"`);
      expect(anonymous.text).toContain(`href="${ROUTES.register}"`);
      expect(anonymous.text).not.toContain('Go to account security');
      const { username } = await register(b);
      const known = await b.get(ROUTES.home);
      expect(known.status).toBe(200);
      expect(known.text).toContain(`You are logged in as <strong><bdi>${username}</bdi></strong>`);
      expect(known.text).toContain(`href="${ROUTES.manageAccount}"`);
    });
  });

  describe(ROUTES.revokeSessions, () => {
    /** This browser's session is gone; `elsewhere` when it was ended from another browser (the login page then says so). */
    const loggedOut = async (b: TestBrowser, elsewhere = false) => {
      const account = await b.get(ROUTES.manageAccount);
      expect(account.status).toBe(303);
      expect(account.location).toBe(`${ROUTES.login}?${elsewhere ? 'ended=elsewhere&' : ''}next=%2Fmanage%2Faccount%2F`);
      if (elsewhere) expect((await b.get(account.location!)).text).toContain('when it is ended from another browser');
    };

    it('ends every session of the user, this one too, and records it; other users keep theirs', async () => {
      const a = browser();
      const { username } = await register(a);
      const b = browser();
      expect((await passwordStep(b, username)).location).toBe(ROUTES.manageAccount);
      const stranger = browser();
      await register(stranger);
      const page = await a.get(ROUTES.manageAccount);
      expect(page.text).toContain(`action="${ROUTES.revokeSessions}"`);
      expect(page.text).toContain('Log out of all sessions');

      const revoked = await a.post(ROUTES.revokeSessions);
      expect(revoked.status).toBe(303);
      expect(revoked.location).toBe(`${ROUTES.login}?ended=everywhere`);
      expect((await a.get(revoked.location!)).text).toContain('You have logged out of every session');
      await loggedOut(a);
      await loggedOut(b, true);
      // Said once: the next visit is an ordinary anonymous one.
      await loggedOut(b);
      expect((await stranger.get(ROUTES.manageAccount)).status).toBe(200);

      const user = (await server.services.accounts.findByUsername(username))!;
      const events = await server.services.events.list(user.id);
      expect(events[0]).toMatchObject({ tag: 'account:sessions:revoked', details: { count: 2 } });
      // Logging in again works and shows the event in the history.
      expect((await passwordStep(a, username)).location).toBe(ROUTES.manageAccount);
      expect((await a.get(ROUTES.manageAccount)).text).toContain('Logged out of all sessions (2 ended)');
    });

    it('asks again in place when the password is missing or wrong after the 5-minute window closed; the right one works', async () => {
      const a = browser();
      const { username } = await register(a);
      await expectPasswordAskedInPlace(a, username, ROUTES.revokeSessions, 'sessions-password');
      const user = (await server.services.accounts.findByUsername(username))!;
      expect((await server.services.events.list(user.id)).map((event) => event.tag)).not.toContain('account:sessions:revoked');
      const right = await a.post(ROUTES.revokeSessions, { [FIELDS.password]: PASSWORD });
      expect(right.status).toBe(303);
      expect(right.location).toBe(`${ROUTES.login}?ended=everywhere`);
    });

    it('needs the CSRF token and, when not recent, the password', async () => {
      const a = browser();
      const { username } = await register(a);
      await a.get(ROUTES.manageAccount);
      const forged = await a.post(ROUTES.revokeSessions, {}, { csrf: false });
      expect(forged.status).toBe(403);
      expect((await a.get(ROUTES.manageAccount)).status).toBe(200);

      await expireReauthWindowOf(username);
      const stale = await a.get(ROUTES.manageAccount);
      expect(stale.text).toContain('so ending sessions needs your password');
      const without = await a.post(ROUTES.revokeSessions);
      expect(without.status).toBe(400);
      expect(without.text).toContain('Enter your password to confirm.');
      expect((await a.post(ROUTES.revokeSessions, { [FIELDS.password]: 'wrong password!' })).status).toBe(401);
      expect((await a.get(ROUTES.manageAccount)).status).toBe(200);
      const user = (await server.services.accounts.findByUsername(username))!;
      expect((await server.services.events.list(user.id)).map((event) => event.tag)).not.toContain('account:sessions:revoked');
      const right = await a.post(ROUTES.revokeSessions, { [FIELDS.password]: PASSWORD });
      expect(right.status).toBe(303);
      await loggedOut(a);
    });
  });

  describe(ROUTES.manageAccount, () => {
    it('sends anonymous visitors to the login page and back', async () => {
      const response = await browser().get(ROUTES.manageAccount);
      expect(response.status).toBe(303);
      expect(response.location).toBe('/account/login/?next=%2Fmanage%2Faccount%2F');
    });

    it('has unique ids and a label for every field, also when several forms ask for the password', async () => {
      const b = browser();
      const { username } = await register(b);
      await enableTotp(b);
      await expireReauthWindowOf(username);
      const page = await b.get(ROUTES.manageAccount);
      const ids = [...page.text.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]);
      expect(ids.length).toBeGreaterThan(5);
      expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
      const passwords = [...page.text.matchAll(/<input id="([^"]+)" name="password"/g)].map((match) => match[1]!);
      expect(passwords.length).toBeGreaterThanOrEqual(3);
      for (const input of page.text.matchAll(/<input\b(?![^>]*type="hidden")[^>]*>/g)) {
        const id = /\sid="([^"]+)"/.exec(input[0])?.[1];
        expect(id, input[0]).toBeDefined();
        expect(page.text).toContain(`<label for="${id}">`);
      }
    });

    it('shows 2FA status, recovery codes left and the security history', async () => {
      const b = browser();
      await register(b);
      let page = await b.get(ROUTES.manageAccount);
      expect(page.text).toContain('<strong>Off.</strong>');
      await enableTotp(b);
      page = await b.get(ROUTES.manageAccount);
      expect(page.text).toContain('<strong>On.</strong>');
      expect(page.text).toMatch(/<strong>8<\/strong> of 8 recovery codes left/);
      expect(page.text).toContain('Two-factor method added: authentication app');
      expect(page.text).toContain('Recovery codes generated');
    });
  });

  describe(ROUTES.totpProvision, () => {
    it('shows a QR PNG (no-store) and the secret, and enables TOTP only with a matching code', async () => {
      const b = browser();
      const { username } = await register(b);
      const page = await b.get(ROUTES.totpProvision);
      expect(page.text).toContain(`src="${ROUTES.totpProvisionImage}"`);
      // The otpauth:// link as labelled, copyable text next to the QR code and the secret.
      const secret = /aria-label="Secret key">([A-Z2-7 ]+)</.exec(page.text)?.[1]?.replace(/ /g, '');
      const uri = (/<textarea id="otpauth-uri"[^>]*readonly[^>]*>([^<]+)<\/textarea>/.exec(page.text)?.[1] ?? '').replace(/&amp;/g, '&');
      expect(uri).toMatch(new RegExp(`^otpauth://totp/[^?]*${username}\\?`));
      expect(new URL(uri).searchParams.get('secret')).toBe(secret);
      expect(page.text).toContain('<label for="otpauth-uri">');
      const image = await fetch(new URL(ROUTES.totpProvisionImage, server.url), {
        headers: { cookie: `latchkey_session=${b.cookies.get('latchkey_session')}` },
      });
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/png');
      expect(image.headers.get('cache-control')).toBe('no-store');
      expect(
        Buffer.from(await image.arrayBuffer())
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
      const wrong = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: '000000' });
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain('does not match');
      const malformed = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: 'abcdef' });
      expect(malformed.status).toBe(400);
      expect(malformed.text).toContain('6-digit');
      const missing = await b.post(ROUTES.totpProvision, {});
      expect(missing.status).toBe(400);
      // The same secret is kept across reloads until confirmed.
      const again = await b.get(ROUTES.totpProvision);
      expect(/aria-label="Secret key">([A-Z2-7 ]+)</.exec(again.text)?.[1]).toBe(/aria-label="Secret key">([A-Z2-7 ]+)</.exec(page.text)?.[1]);
    });

    it('two sessions confirming different apps at once: one is turned on, the other gets 409 and never replaces its secret', async () => {
      const a = browser();
      const { username } = await register(a);
      const b = browser();
      expect((await passwordStep(b, username)).status).toBe(303);
      const secretOf = async (x: TestBrowser) =>
        /aria-label="Secret key">([A-Z2-7 ]+)</.exec((await x.get(ROUTES.totpProvision)).text)?.[1]?.replace(/ /g, '') ?? '';
      const secrets = [await secretOf(a), await secretOf(b)];
      expect(secrets[0]).not.toBe(secrets[1]);
      const answers = await Promise.all([a, b].map((x, i) => x.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secrets[i]!) })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([303, 409]);
      const winner = answers.findIndex((answer) => answer.status === 303);
      expect(answers[1 - winner]!.text).toContain('Your account already has an authentication app.');
      // The winner's app logs in: its secret is the stored one.
      const user = (await server.services.accounts.findByUsername(username))!;
      expect(await server.services.totp.verify(user, codeFor(secrets[winner]!, 1))).toBe('ok');
    });

    it('needs the password when the last authentication is older than 5 minutes', async () => {
      const b = browser();
      await register(b);
      const page = await b.get(ROUTES.totpProvision);
      const secret = /aria-label="Secret key">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
      await server.services.db
        .updateTable('sessions')
        .set({ authenticated_at: Date.now() - 6 * 60_000 })
        .execute();
      const stale = await b.get(ROUTES.totpProvision);
      expect(stale.text).toContain('name="password"');
      const without = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secret) });
      expect(without.status).toBe(400);
      expect(without.text).toContain('Enter your password to confirm.');
      const wrong = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secret), [FIELDS.password]: 'wrong password!' });
      expect(wrong.status).toBe(401);
      // The password accepted, the code refused: the page comes back without asking for the password again.
      const wrongCode = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: '000000', [FIELDS.password]: PASSWORD });
      expect(wrongCode.status).toBe(400);
      expect(wrongCode.text).not.toContain('name="password"');
      const right = await b.post(ROUTES.totpProvision, { [FIELDS.totpValue]: codeFor(secret) });
      expect(right.status).toBe(303);
    });

    it('shows recovery codes exactly once after the first method', async () => {
      const b = browser();
      await register(b);
      await enableTotp(b);
      const again = await b.get('/manage/account/recovery-codes/');
      expect(again.status).toBe(404);
      // The first set voided nothing, so neither the page nor the history says so.
      const history = (await b.get(ROUTES.manageAccount)).text;
      expect(history).toContain('Recovery codes generated');
      expect(history).not.toContain('older codes voided');
      expect(again.text).toContain('shown only once');
      expect((await b.get(ROUTES.totpProvision)).status).toBe(409);
    });

    it('has no image when nothing is being set up', async () => {
      const b = browser();
      await register(b);
      expect((await b.get(ROUTES.totpProvisionImage)).status).toBe(404);
    });
  });

  describe(ROUTES.twoFactor, () => {
    it('logs in with a TOTP code; the code and the token are single use', async () => {
      const b = browser();
      const { username } = await register(b);
      const { secret } = await enableTotp(b);
      await logout(b);
      const step = await passwordStep(b, username, { [FIELDS.next]: '/manage/account/?after=2fa' });
      expect(step.status).toBe(303);
      expect(step.location).toMatch(/^\/account\/two-factor\/\?token=[^&]+&next=%2Fmanage%2Faccount%2F%3Fafter%3D2fa$/);
      const page = await b.get(step.location!);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<input name="totp_value" autocomplete="one-time-code" inputmode="numeric" id="totp-value" type="text"');
      const query = step.location!.slice(ROUTES.twoFactor.length);
      expect(page.text).toContain(`href="${ROUTES.recoveryCode}${query.replace(/&/g, '&amp;')}"`);
      expect(page.text).not.toContain('webauthn-auth-begin');

      const wrong = await b.post(step.location!, { [FIELDS.totpValue]: '000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('Invalid code');
      // The refusal is the code field's too: marked invalid and described by it, for whoever tabs from the summary.
      expect(wrong.text).toMatch(/<input name="totp_value"[^>]*aria-invalid="true"[^>]*aria-describedby="totp-value-error"/);
      expect(wrong.text).toMatch(/<p class="field-error" id="totp-value-error">Invalid code\./);
      const malformed = await b.post(step.location!, { [FIELDS.totpValue]: '12ab' });
      expect(malformed.status).toBe(400);
      expect(malformed.text).toMatch(/<input name="totp_value"[^>]*aria-invalid="true"/);
      const code = codeFor(secret, 1);
      const ok = await b.post(step.location!, { [FIELDS.totpValue]: code });
      expect(ok.status).toBe(303);
      expect(ok.location).toBe('/manage/account/?after=2fa');

      // Back to the spent link while logged in: nothing to redo, so no "Log in again".
      const reused = await b.get(step.location!);
      expect(reused.status).toBe(200);
      expect(reused.text).toContain(`You are already logged in as ${username}`);
      expect(reused.text).not.toContain('Log in again');
      expect(reused.text).toContain(`href="${ROUTES.manageAccount}"`);
      await logout(b);
      const spent = await b.get(step.location!);
      expect(spent.status).toBe(400);
      expect(spent.text).toContain('already been used');
      expect(spent.text).toContain('Log in again');

      // Replay: the same code on a fresh login is refused.
      const second = await passwordStep(b, username);
      const replay = await b.post(second.location!, { [FIELDS.totpValue]: code });
      expect(replay.status).toBe(401);
      expect(replay.text).toContain('already been used');
    });

    it('refuses expired, forged and missing tokens with a way back to the login page', async () => {
      const b = browser();
      const { username } = await register(b);
      await enableTotp(b);
      await logout(b);
      await b.get(ROUTES.login); // a CSRF token for the anonymous visitor
      const user = (await server.services.accounts.findByUsername(username))!;
      const body = Buffer.from(JSON.stringify({ n: 'x', u: user.id, e: user.security_epoch, t: Date.now() - 301_000 })).toString('base64url');
      const expired = `${body}.${hmac(server.services.keys['login-token'], body)}`;
      const responses = [
        await b.get(`${ROUTES.twoFactor}?token=${encodeURIComponent(expired)}`),
        await b.post(`${ROUTES.twoFactor}?token=${encodeURIComponent(expired)}`, { [FIELDS.totpValue]: '123456' }),
      ];
      for (const response of responses) {
        expect(response.status).toBe(400);
        expect(response.text).toContain('expired');
        expect(response.text).toContain('Log in again');
      }
      for (const path of [ROUTES.twoFactor, `${ROUTES.twoFactor}?token=abc.def`, `${ROUTES.twoFactor}?token=a&token=b`]) {
        const response = await b.get(path);
        expect(response.status).toBe(400);
        expect(response.text).toContain('not valid');
      }
    });

    it('locks the second factor after 5 wrong codes (429), per account', async () => {
      const b = browser();
      const { username } = await register(b);
      await enableTotp(b);
      await logout(b);
      const step = await passwordStep(b, username);
      for (let i = 0; i < DEFAULT_RATE_LIMITS.secondFactorPerAccount.max - 1; i++) {
        expect((await b.post(step.location!, { [FIELDS.totpValue]: '000000' })).status).toBe(401);
      }
      const fifth = await b.post(step.location!, { [FIELDS.totpValue]: '000000' });
      expect(fifth.status).toBe(429);
      const locked = await b.post(step.location!, { [FIELDS.totpValue]: '000000' });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
      expect(locked.text).toContain('Too many failed attempts. Try again in 15 minutes.');
    });

    it('remembers this device for 30 days until the user forgets remembered devices', async () => {
      const b = browser();
      const { username } = await register(b);
      const { secret } = await enableTotp(b);
      await logout(b);
      const step = await passwordStep(b, username);
      const ok = await b.post(step.location!, { [FIELDS.totpValue]: codeFor(secret, 1), [FIELDS.rememberDevice]: 'on' });
      expect(ok.status).toBe(303);
      expect(b.cookies.get('latchkey_device')).toBeTruthy();
      await logout(b);
      const remembered = await passwordStep(b, username);
      expect(remembered.location).toBe(ROUTES.manageAccount);
      // Another browser is not remembered.
      const other = browser();
      expect((await passwordStep(other, username)).location).toMatch(/^\/account\/two-factor\//);
      await b.get(ROUTES.manageAccount);
      const forget = await b.post('/manage/account/forget-devices');
      expect(forget.status).toBe(303);
      await logout(b);
      expect((await passwordStep(b, username)).location).toMatch(/^\/account\/two-factor\//);
    });

    it('offers "Remember this device" once for every method on the page, tied to the code form', async () => {
      const b = browser();
      const { username } = await register(b);
      await enableTotp(b);
      await logout(b);
      const page = await b.get((await passwordStep(b, username)).location!);
      expect(page.text.match(/name="remember_device"/g)).toHaveLength(1);
      expect(page.text).toMatch(/<input id="remember-device" type="checkbox" name="remember_device" value="on" form="totp-form"/);
      expect(page.text).toContain('<form id="totp-form" method="post"');
    });
  });

  describe(ROUTES.recoveryCode, () => {
    it('can remember this device after a recovery-code login', async () => {
      const b = browser();
      const { username } = await register(b);
      const { codes } = await enableTotp(b);
      await logout(b);
      const step = await passwordStep(b, username);
      const recoveryUrl = step.location!.replace(ROUTES.twoFactor, ROUTES.recoveryCode);
      expect((await b.get(recoveryUrl)).text).toContain('name="remember_device"');
      const ok = await b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: codes[0]!, [FIELDS.rememberDevice]: 'on' });
      expect(ok.status).toBe(303);
      await logout(b);
      expect((await passwordStep(b, username)).location).toBe(ROUTES.manageAccount);
    });

    it('logs in with a recovery code, burns it, warns, and refuses its reuse', async () => {
      const b = browser();
      const { username } = await register(b);
      const { codes } = await enableTotp(b);
      await logout(b);
      const step = await passwordStep(b, username);
      const recoveryUrl = step.location!.replace(ROUTES.twoFactor, ROUTES.recoveryCode);
      const page = await b.get(recoveryUrl);
      expect(page.status).toBe(200);
      expect(page.text).toContain('name="recovery_code_value"');
      expect((await b.post(recoveryUrl, {})).status).toBe(400);
      expect((await b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: '123456' })).status).toBe(400);
      const wrong = await b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: '0123456789abcdef' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('Invalid recovery code.');
      const ok = await b.post(recoveryUrl, { [FIELDS.recoveryCodeValue]: codes[0]!.toUpperCase() });
      expect(ok.status).toBe(303);
      const account = await b.get(ok.location!);
      expect(account.text).toContain('You logged in with a recovery code');
      expect(account.text).toMatch(/<strong>7<\/strong> of 8 recovery codes left/);
      expect(account.text).toContain('Recovery code used');
      await logout(b);
      const again = await passwordStep(b, username);
      const reuse = await b.post(again.location!.replace(ROUTES.twoFactor, ROUTES.recoveryCode), { [FIELDS.recoveryCodeValue]: codes[0]! });
      expect(reuse.status).toBe(401);
      expect(reuse.text).toContain('already been used');
    });
  });

  describe(ROUTES.recoveryCodesGenerate, () => {
    it('shows 8 new codes once and voids the old ones; needs the password when not recent', async () => {
      const b = browser();
      const { username } = await register(b);
      const { codes: old } = await enableTotp(b);
      const account = await b.get(ROUTES.manageAccount);
      expect(account.text).toMatch(/<input id="recovery-codes-confirm" type="checkbox" name="confirm" value="on" required/);
      // Without the confirmation nothing happens, and the account page says why next to the box.
      const unconfirmed = await b.post(ROUTES.recoveryCodesGenerate);
      expect(unconfirmed.status).toBe(400);
      expect(unconfirmed.text).toContain('Tick the box to confirm: your current recovery codes stop working');
      expect(unconfirmed.text).toMatch(
        /<input id="recovery-codes-confirm"[^>]*autofocus[^>]*aria-invalid="true" aria-describedby="recovery-codes-confirm-error"/,
      );
      const generated = await b.post(ROUTES.recoveryCodesGenerate, { confirm: 'on' });
      expect(generated.status).toBe(303);
      const fresh = await b.get(generated.location!);
      expect(fresh.status).toBe(200);
      expect(fresh.text).toContain('Any older recovery codes have stopped working.');
      expect((await b.get(ROUTES.manageAccount)).text).toContain('New recovery codes generated (older codes voided)');
      expect(fresh.text).toContain('This is the only time these codes are shown.');
      // Named for the site and the day (review finding 9): recovery-codes.test.ts checks the name exactly.
      expect(fresh.text).toMatch(/download="latchkey-recovery-codes-[A-Za-z0-9.-]+-\d{4}-\d{2}-\d{2}\.txt"/);
      expect(fresh.text).toContain('id="print-recovery-codes"');
      const codes = codesOnPage(fresh.text);
      expect(codes).toHaveLength(8);
      const user = (await server.services.accounts.findByUsername(username))!;
      expect(await server.services.recoveryCodes.use(user.id, old[1]!)).toBe('invalid');
      expect(await server.services.recoveryCodes.use(user.id, codes[0]!)).toBe('ok');

      await expireReauthWindow(server.services.db, user.id);
      const noPassword = await b.post(ROUTES.recoveryCodesGenerate, { confirm: 'on' });
      expect(noPassword.status).toBe(400);
      expect((await b.post(ROUTES.recoveryCodesGenerate, { [FIELDS.password]: 'wrong password!', confirm: 'on' })).status).toBe(401);
      expect((await b.post(ROUTES.recoveryCodesGenerate, { [FIELDS.password]: PASSWORD, confirm: 'on' })).status).toBe(303);
    });

    it('asks again in place when the password is missing or wrong after the 5-minute window closed; the right one works', async () => {
      const b = browser();
      const { username } = await register(b);
      const { codes: old } = await enableTotp(b);
      await expectPasswordAskedInPlace(b, username, ROUTES.recoveryCodesGenerate, 'recovery-codes-password', { confirm: 'on' });
      const user = (await server.services.accounts.findByUsername(username))!;
      expect(await server.services.recoveryCodes.check(user.id, old[1]!)).toBe('ok');
      const right = await b.post(ROUTES.recoveryCodesGenerate, { [FIELDS.password]: PASSWORD, confirm: 'on' });
      expect(right.status).toBe(303);
      expect(codesOnPage((await b.get(right.location!)).text)).toHaveLength(8);
      expect(await server.services.recoveryCodes.check(user.id, old[1]!)).toBe('invalid');
    });

    it('refuses without 2FA', async () => {
      const b = browser();
      await register(b);
      await b.get(ROUTES.manageAccount);
      const response = await b.post(ROUTES.recoveryCodesGenerate);
      expect(response.status).toBe(400);
      expect(response.text).toContain('Turn on two-factor authentication first');
    });
  });

  describe(ROUTES.totpProvisionRemove, () => {
    it('removes TOTP only with the password', async () => {
      const b = browser();
      const { username } = await register(b);
      await enableTotp(b);
      const account = await b.get(ROUTES.manageAccount);
      expect(account.text).toContain('This is your only second factor');
      expect(account.text).toMatch(/<input id="totp-remove-confirm" type="checkbox" name="confirm" value="on" required/);
      // The last factor: nothing happens without the confirmation.
      const unconfirmed = await b.post(ROUTES.totpProvisionRemove, { [FIELDS.password]: PASSWORD });
      expect(unconfirmed.status).toBe(400);
      expect(unconfirmed.text).toContain('This is your last second factor: tick the box');
      expect((await b.post(ROUTES.totpProvisionRemove, { confirm: 'on' })).status).toBe(400);
      // A wrong password: the account page again, the form open, the error next to the field and focused — no dead end.
      const wrong = await b.post(ROUTES.totpProvisionRemove, { [FIELDS.password]: 'wrong password!', confirm: 'on' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('<h1>Account security</h1>');
      expect(wrong.text).toMatch(
        /<details open="">\s*<summary>Remove authentication app<\/summary>|<details open><summary>Remove authentication app<\/summary>/,
      );
      expect(wrong.text).toMatch(
        /<input id="totp-remove-password" name="password" type="password"[^>]*autofocus[^>]*aria-invalid="true" aria-describedby="totp-remove-password-error"/,
      );
      expect(wrong.text).toContain('<p class="field-error" id="totp-remove-password-error">That password is not correct.</p>');
      expect((await server.services.accounts.twoFactorStatus((await server.services.accounts.findByUsername(username))!.id)).hasTotp).toBe(true);
      const removed = await b.post(ROUTES.totpProvisionRemove, { [FIELDS.password]: PASSWORD, confirm: 'on' });
      expect(removed.status).toBe(303);
      const page = await b.get(ROUTES.manageAccount);
      expect(page.text).toContain('Authentication app removed. Two-factor authentication is now off and your recovery codes were deleted.');
      expect(page.text).toContain('<strong>Off.</strong>');
      const user = (await server.services.accounts.findByUsername(username))!;
      expect(await server.services.recoveryCodes.remaining(user.id)).toBe(0);
      await logout(b);
      expect((await passwordStep(b, username)).location).toBe(ROUTES.manageAccount);
    });
  });
});

describe('over https', () => {
  it('uses __Host- cookies with Secure, and HSTS', async () => {
    const { server, close } = await startTestServer('sqlite', { origin: 'https://index.example' });
    try {
      const response = await fetch(new URL(ROUTES.login, server.url));
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      const cookie = response.headers.getSetCookie()[0] ?? '';
      // A visitor without a session gets an anonymous token (`anon.` and 256 random bits; never looked up).
      expect(cookie).toMatch(/^__Host-latchkey_session=anon\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    } finally {
      await close();
    }
  });
});
