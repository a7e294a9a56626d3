import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { PASSWORD, registerIn, uniqueName, useTestServer } from '../testing/http-harness.js';
import { readOutbox } from '../testing/read-outbox.js';
import { DIALECTS } from '../testing/service-harness.js';
import { PASSWORD_ROUTES } from '../views/password-routes.js';

/**
 * Who a username says its owner is (QA h10): on a package index the name is shown on every release, so a
 * second name that reads as a first one, or as the index's own staff, is an impersonation. Through the
 * real routes, on both databases.
 */
describe.each(DIALECTS)('registration and account identity on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  const fields = (username: string, email: string, password = PASSWORD) => ({
    [FIELDS.username]: username,
    [FIELDS.email]: email,
    [FIELDS.newPassword]: password,
    [FIELDS.passwordConfirm]: password,
  });
  const registerAs = async (username: string, email = 'someone@example.org', password = PASSWORD) => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.register);
    return b.post(ROUTES.register, fields(username, email, password));
  };
  const accountCount = async () =>
    Number(
      (
        await server.services.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** The refusal is on `field`: its message beside it, the field marked and focused, the typed name kept, no password echoed. */
  const expectRefusedOn = (response: { status: number; text: string }, field: string, message: RegExp, typedName: string) => {
    expect(response.status).toBe(400);
    const error = new RegExp(`<p class="field-error" id="field-${field}-error">([^<]*)</p>`).exec(response.text)?.[1] ?? '';
    expect(error).toMatch(message);
    expect(response.text).toMatch(new RegExp(`<input id="field-${field}"[^>]*autofocus[^>]*aria-invalid="true"`));
    expect(response.text).toContain(`value="${typedName}"`);
    expect(response.text).not.toContain(PASSWORD);
  };

  it('refuses names that read as the index or its staff, whatever their case or separators; their neighbours are fine', async () => {
    const before = await accountCount();
    for (const name of [
      'admin',
      'ADMIN',
      'Ad-Min',
      'root',
      'security',
      'Support',
      'no-reply',
      'latchkey',
      'pypi',
      'test.pypi',
      'pypi-security',
      'support.latchkey',
    ]) {
      expectRefusedOn(
        await registerAs(name),
        FIELDS.username,
        /^This username is reserved: people could take it for this index’s own staff or services\./,
        name,
      );
    }
    expect(await accountCount()).toBe(before);
    // Only whole names (and the index's own names as a part): a word that merely contains one is someone's name.
    const suffix = uniqueName();
    for (const name of [`pypiserver${suffix}`, `happypiano${suffix}`, `administratrix${suffix}`, `securityresearcher${suffix}`]) {
      const response = await registerAs(name, `${name}@example.org`);
      expect(response.status, name).toBe(303);
    }
  });

  it('refuses a name with any non-ASCII character, also one that lower-casing turns into an ASCII letter', async () => {
    const name = uniqueName();
    // U+212A KELVIN SIGN lower-cases to "k": the name used to be accepted and stored as another one.
    for (const typed of [
      `\u212A${name}`,
      `\u212Aim`,
      `\u0430${name}`,
      `\uFF4B${name}`,
      `${name}\u200B`,
      `\u202E${name}`,
      `${name}\u0131`,
      `${name}e\u0301`,
      `o\uFB03ce${name}`,
    ]) {
      const response = await registerAs(typed);
      expectRefusedOn(response, FIELDS.username, /^The username may contain only the letters A–Z/, typed);
    }
    expect(await server.services.accounts.findByUsername(`k${name}`)).toBeUndefined();
    // Spaces around a name are still only spaces: trimmed, the name registered as typed.
    expect((await registerAs(`\u00A0 ${name.toUpperCase()} `, `${name}@example.org`)).status).toBe(303);
    expect((await server.services.accounts.findByUsername(name))?.username).toBe(name);
  });

  it('gives one of two simultaneous registrations of a name the account and the others a clear 409 on the name, never a 500', async () => {
    const name = uniqueName();
    const browsers = Array.from({ length: 6 }, () => new TestBrowser(server.url));
    await Promise.all(browsers.map((b) => b.get(ROUTES.register)));
    const responses = await Promise.all(
      browsers.map((b, i) => b.post(ROUTES.register, fields(i % 2 === 0 ? name : name.toUpperCase(), `racer${i}@example.org`))),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([303, 409, 409, 409, 409, 409]);
    for (const refused of responses.filter((response) => response.status === 409)) {
      expect(refused.text).toMatch(/<p class="field-error" id="field-username-error">This username is already taken\. Choose another one\.<\/p>/);
      expect(refused.text).not.toContain(PASSWORD);
    }
    // The one account is whole: its address, its verification mail and the history's first event.
    const user = (await server.services.accounts.findByUsername(name))!;
    const db = server.services.db;
    expect(await db.selectFrom('users').select('id').where('username', '=', name).execute()).toHaveLength(1);
    expect(await db.selectFrom('user_emails').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
    expect(await db.selectFrom('mail_outbox').select('id').where('user_id', '=', user.id).where('kind', '=', 'verify-email').execute()).toHaveLength(1);
    expect(await db.selectFrom('events').select('tag').where('user_id', '=', user.id).execute()).toEqual([{ tag: 'account:create' }]);
  });

  it('refuses a password holding the e-mail address’s name, at registration and when it is changed (one rule)', async () => {
    const name = uniqueName();
    // Not holding the username: this is the address's own rule.
    const person = 'rosalind.franklin';
    for (const [email, password] of [
      [`${person}@example.org`, `${person}@example.org`],
      [`${person}+pypi@example.org`, `I am ${person.toUpperCase()} of the lab`],
    ] as const) {
      expectRefusedOn(await registerAs(name, email, password), FIELDS.newPassword, /^The password must not contain your e-mail address/, name);
    }
    expect(await server.services.accounts.findByUsername(name)).toBeUndefined();

    // Change: the rule sees the account's primary address.
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.register);
    expect((await b.post(ROUTES.register, fields(name, `${person}@example.org`))).status).toBe(303);
    await b.get(PASSWORD_ROUTES.changePassword);
    const newPassword = `${person} rides a bicycle`;
    const change = await b.post(PASSWORD_ROUTES.changePassword, {
      [FIELDS.password]: PASSWORD,
      [FIELDS.newPassword]: newPassword,
      [FIELDS.passwordConfirm]: newPassword,
    });
    expect(change.status).toBe(400);
    expect(change.text).toContain('The password must not contain your e-mail address or the name before its @.');
    expect(await server.services.accounts.verifyPassword(await server.services.accounts.findByUsername(name), PASSWORD)).toBe(true);
  });

  it('refuses an address whose part before the @ is not ASCII (it needs SMTPUTF8 on every hop), however composed, on its field', async () => {
    const name = uniqueName();
    const before = await accountCount();
    // Precomposed, and "o" + combining diaeresis: one address, one answer (the form's typed value is kept).
    for (const email of [`j\u00F6rg.${name}@example.org`, `jo\u0308rg.${name}@example.org`]) {
      expectRefusedOn(await registerAs(name, email), FIELDS.email, /^Use an address whose part before the @ has only ASCII characters/, name);
    }
    expect(await accountCount()).toBe(before);
    expect(await server.services.accounts.findByUsername(name)).toBeUndefined();
  });

  it('registers an internationalised domain in its ASCII form: stored, mailed and shown that way', async () => {
    const name = uniqueName();
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.register);
    const response = await b.post(ROUTES.register, fields(name, ` ${name}@EXA\u0308MPLE.org `));
    expect(response.status).toBe(303);
    const ascii = `${name}@xn--exmple-cua.org`;
    const user = (await server.services.accounts.findByUsername(name))!;
    expect(user.email).toBe(ascii);
    expect((await server.services.emails.list(user.id)).map((address) => address.email)).toEqual([ascii]);
    // The verification link goes to the address every mail server routes: To and RCPT are ASCII.
    expect((await readOutbox(server.services, { to: ascii, kind: 'verify-email' })).length).toBe(1);
    expect((await b.get(ROUTES.manageAccount)).text).toContain(`We sent a link to ${ascii}`);
  });

  it('refuses a logged-in browser’s registration (409, saying who is logged in) and creates nothing; the session goes on', async () => {
    const b = new TestBrowser(server.url);
    const username = await registerIn(b);
    const user = (await server.services.accounts.findByUsername(username))!;
    // The GET sends a logged-in browser to its account page; a form posted anyway (a tab opened earlier) is refused.
    expect((await b.get(ROUTES.register)).location).toBe(ROUTES.manageAccount);
    await b.get(ROUTES.manageAccount);
    const before = await accountCount();
    const second = uniqueName();
    const refused = await b.post(ROUTES.register, fields(second, `${second}@example.org`));
    expect(refused.status).toBe(409);
    expect(refused.text).toContain(`You are logged in as ${username}, so no account was created. To create another account, log out first.`);
    expect(refused.text).toContain(`href="${ROUTES.logout}"`);
    expect(refused.text).not.toContain(PASSWORD);
    expect(await accountCount()).toBe(before);
    expect(await server.services.accounts.findByUsername(second)).toBeUndefined();
    // Still logged in as the first account, whose history has no unexplained end of session.
    const account = await b.get(ROUTES.manageAccount);
    expect(account.status).toBe(200);
    expect(account.text).toContain(username);
    expect(await server.services.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('still logs in an account whose name a newer rule would refuse (the rule is for new names only)', async () => {
    // As stored before the reserved names: the row is written directly, the rule is not asked.
    const b = new TestBrowser(server.url);
    const username = await registerIn(b);
    const user = (await server.services.accounts.findByUsername(username))!;
    const legacy = 'security';
    await server.services.db.updateTable('users').set({ username: legacy }).where('id', '=', user.id).execute();
    const again = new TestBrowser(server.url);
    await again.get(ROUTES.login);
    const login = await again.post(ROUTES.login, { [FIELDS.username]: legacy.toUpperCase(), [FIELDS.password]: PASSWORD });
    expect(login.status).toBe(303);
    expect(login.location).toBe(ROUTES.manageAccount);
  });
});
