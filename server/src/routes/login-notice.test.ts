import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { NO_ORIGIN } from '../services/events.js';
import { SESSION_IDLE_TIMEOUT_MS } from '../services/sessions.js';
import { TestBrowser } from '../testing/browser.js';
import { PASSWORD, registerIn, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { SESSION_ENDED_NOTICES } from './login-notice.js';

// QA: a browser whose session is gone was told "it was inactive for too long, or you logged out of it from
// another browser" — false after an administrator's `reset-2fa`, a password reset or change, or the account's
// deletion, which end sessions too. Every way a session of another browser can end is tried here: the
// login page must say one sentence that is true of each, and the same one whichever it was (the server no
// longer knows the session, and the holder of an old cookie is not told what the owner did).
const NEW_PASSWORD = 'a brand new passphrase 8812';

describe.each(DIALECTS)('the login page after a session ended elsewhere on %s', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  /** The login page's notice (role="status"), as text. */
  const noticeOn = (html: string) => /role="status"[^>]*>\s*<p>([^<]*)<\/p>/.exec(html)?.[1] ?? null;

  /** Each way another browser's session ends, and the words of the notice that name it. */
  const ENDINGS: { how: string; words: string; end: (user: { id: string; username: string }, sessionId: string) => Promise<unknown> }[] = [
    {
      how: 'an administrator reset its two-factor authentication (npm run admin -- reset-2fa)',
      words: 'an administrator resets two-factor authentication',
      end: (user) => server.services.admin.resetTwoFactor(user.username, { reason: 'video call, matched release key', actor: 'ops@host' }),
    },
    {
      how: 'the password was reset',
      words: 'the password is changed or reset',
      end: (user) => server.services.passwordChanges.setPassword(user.id, NEW_PASSWORD, { reason: 'reset' }),
    },
    {
      how: 'the password was changed in another session',
      words: 'the password is changed or reset',
      end: async (user, sessionId) => {
        const changer = (await server.services.sessions.listForUser(user.id)).find((row) => row.id !== sessionId)!;
        return server.services.passwordChanges.setPassword(user.id, NEW_PASSWORD, { reason: 'change', keepSessionId: changer.id });
      },
    },
    {
      how: '"Log out of all sessions" from another browser',
      words: 'it is ended from another browser',
      end: (user) => server.services.sessions.destroyAllForUser(user.id, NO_ORIGIN),
    },
    {
      how: '"End session" from another browser',
      words: 'it is ended from another browser',
      end: (user, sessionId) => server.services.sessions.endForUser(user.id, sessionId, NO_ORIGIN),
    },
    {
      how: '30 minutes without use',
      words: '30 minutes without use',
      end: (_user, sessionId) =>
        server.services.db
          .updateTable('sessions')
          .set({ last_seen_at: Date.now() - SESSION_IDLE_TIMEOUT_MS - 1000 })
          .where('id', '=', sessionId)
          .execute(),
    },
    {
      how: 'the account was deleted from another browser',
      words: 'the account is deleted',
      end: async (user) => server.services.accounts.deleteAccount((await server.services.accounts.findById(user.id))!, NO_ORIGIN),
    },
  ];

  it.each(ENDINGS)('after $how, the notice says so among the other ways, in the one sentence for all', async ({ words, end }) => {
    const owner = new TestBrowser(server.url);
    const username = await registerIn(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    const ownersSession = (await server.services.sessions.listForUser(user.id))[0]!.id;
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    expect((await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD })).location).toBe(ROUTES.manageAccount);
    const sessionId = (await server.services.sessions.listForUser(user.id)).find((row) => row.id !== ownersSession)!.id;

    await end(user, sessionId);
    const account = await b.get(ROUTES.manageAccount);
    expect(account.status).toBe(303);
    expect(account.location).toBe(`${ROUTES.login}?ended=elsewhere&next=%2Fmanage%2Faccount%2F`);
    const loginPage = (await b.get(account.location!)).text;
    const notice = noticeOn(loginPage);
    // A warning, not the green of a logout the person chose (it read as "all is well").
    expect(loginPage).toContain('<div class="notice notice-warning" role="status">');
    // One fixed sentence, whatever ended the session: nothing about the cause reaches an old cookie's holder.
    expect(notice).toBe(SESSION_ENDED_NOTICES.elsewhere);
    expect(notice).toContain(words);
    // Said once: the marker cookie is gone, so the next visit is a plain login page.
    expect(noticeOn((await b.get(ROUTES.login)).text)).toBeNull();
  });

  it('styles what the person did as done and what happened to them as a warning', async () => {
    const b = new TestBrowser(server.url);
    const styles: Record<string, string | undefined> = {};
    for (const ended of ['logout', 'everywhere', 'deleted', 'changed', 'elsewhere']) {
      const html = (await b.get(`${ROUTES.login}?ended=${ended}`)).text;
      styles[ended] = /<div class="notice notice-(\w+)" role="status">/.exec(html)?.[1];
    }
    expect(styles).toEqual({ logout: 'success', everywhere: 'success', deleted: 'success', changed: 'warning', elsewhere: 'warning' });
  });

  it('a form posted after the session ended gets the same sentence, not "expired"', async () => {
    const owner = new TestBrowser(server.url);
    const username = await registerIn(owner);
    const user = (await server.services.accounts.findByUsername(username))!;
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    await b.post(ROUTES.login, { [FIELDS.username]: username, [FIELDS.password]: PASSWORD });
    await b.get(ROUTES.manageAccount);
    await server.services.admin.resetTwoFactor(username, { reason: 'video call, matched release key', actor: 'ops@host' });
    expect((await server.services.sessions.listForUser(user.id)).length).toBe(0);
    const posted = await b.post(ROUTES.revokeSessions, {});
    expect(posted.status).toBe(401);
    expect(posted.text).toContain(SESSION_ENDED_NOTICES.elsewhere);
    expect(posted.text).not.toContain('expired');
  });
});
