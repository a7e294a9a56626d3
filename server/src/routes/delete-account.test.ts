import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { EVENT_TAGS } from '../services/events.js';
import { TestBrowser } from '../testing/browser.js';
import { PASSWORD, registerIn, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { ACCOUNT_ROUTES, DELETE_ACCOUNT_FIELDS } from '../views/account-page.js';

// Deleting an account from its page: the username typed and the password asked every time, errors in
// place, then the browser is logged out, the login page says what happened, and the name is gone for good.
describe.each(DIALECTS)('%s: POST /manage/account/delete', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  const remove = (b: TestBrowser, username: string, password: string) =>
    b.post(ACCOUNT_ROUTES.deleteAccount, { [DELETE_ACCOUNT_FIELDS.username]: username, [FIELDS.password]: password });

  it('refuses without the right username or password, in place and changing nothing, even just after logging in', async () => {
    const b = new TestBrowser(server.url);
    const username = await registerIn(b);
    const page = await b.get(ROUTES.manageAccount);
    expect(page.text).toContain('<h2 id="delete-heading">Delete account</h2>');
    expect(page.text).toContain(`<form method="post" action="${ACCOUNT_ROUTES.deleteAccount}"`);

    const wrongName = await remove(b, `${username}x`, PASSWORD);
    expect(wrongName.status).toBe(400);
    expect(wrongName.text).toContain(`Type your username, ${username}, to confirm that this account is the one to delete.`);
    expect(wrongName.text).toMatch(/<details open>\s*<summary>Delete this account<\/summary>/);
    expect(wrongName.text).toMatch(/id="delete-username"[^>]*autofocus/);

    // Recently authenticated, and still the password is asked: deleting cannot be undone.
    const noPassword = await remove(b, username, '');
    expect(noPassword.status).toBe(400);
    expect(noPassword.text).toContain('Enter your password to confirm.');
    const wrongPassword = await remove(b, username.toUpperCase(), 'not the password at all');
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.text).toMatch(/id="delete-password"[^>]*autofocus/);
    // The name was right: it stays in its field, so only the password is typed again (QA).
    expect(wrongPassword.text).toMatch(new RegExp(`<input id="delete-username"[^>]*value="${username}"`));
    expect(wrongName.text).not.toMatch(/<input id="delete-username"[^>]*value=/);

    expect(await server.services.accounts.findByUsername(username)).toBeDefined();
    expect((await b.get(ROUTES.manageAccount)).status).toBe(200);
  });

  it('deletes with both, logs this browser out with a message, and the name can neither log in nor be registered again', async () => {
    const b = new TestBrowser(server.url);
    const username = await registerIn(b);
    const other = new TestBrowser(server.url); // a second session of the same account
    await other.get(ROUTES.login);
    expect((await other.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD })).location).toBe(ROUTES.manageAccount);
    await b.get(ROUTES.manageAccount);

    const deleted = await remove(b, `  ${username.toUpperCase()} `, PASSWORD);
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/account/login/?ended=deleted');
    expect((await b.get(deleted.location!)).text).toContain('Your account was deleted, with everything it held. Its username cannot be registered again.');
    expect(await server.services.accounts.findByUsername(username)).toBeUndefined();
    for (const browser of [b, other]) expect((await browser.get(ROUTES.manageAccount)).status).toBe(303);

    await b.get(ROUTES.login);
    expect((await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD })).status).toBe(401);
    await b.get(ROUTES.register);
    const again = await b.post(ROUTES.register, {
      [FIELDS.username]: username,
      [FIELDS.email]: 'someone-else@example.org',
      [FIELDS.newPassword]: PASSWORD,
      [FIELDS.passwordConfirm]: PASSWORD,
    });
    expect(again.status).toBe(409);
    expect(again.text).toContain('This username belonged to an account that was deleted, and cannot be used again.');
    const events = await server.services.db
      .selectFrom('events')
      .selectAll()
      .where('tag', '=', EVENT_TAGS.accountDeleted)
      .where('user_id', 'is', null)
      .execute();
    expect(events.some((event) => JSON.parse(event.details).username === username)).toBe(true);
  });
});
