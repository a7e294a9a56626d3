import { FIELDS, ROUTES } from '@latchkey/shared';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../main.js';
import { TestBrowser, type PageResponse } from '../testing/browser.js';
import { registerIn, useTestServer } from '../testing/http-harness.js';
import { DIALECTS } from '../testing/service-harness.js';
import { PASSWORD_ROUTES } from '../views/password-routes.js';

/** What every error page carries (app.ts securityHeaders, http.ts sendPage). */
function expectPageHeaders(response: PageResponse, what: string): void {
  expect(response.headers.get('content-security-policy'), what).toBe(
    "default-src 'self';script-src 'self';object-src 'none';frame-ancestors 'none';form-action 'self';base-uri 'none'",
  );
  expect(response.headers.get('x-frame-options'), what).toBe('DENY');
  expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(response.headers.get('referrer-policy'), what).toBe('same-origin');
  expect(response.headers.get('cache-control'), what).toBe('no-store');
}

/** The message of an error page (MessagePage's alert). */
function alertOf(html: string): string | undefined {
  return /role="alert"[^>]*>\s*<p>([^<]*)<\/p>/.exec(html)?.[1]?.replaceAll('&#39;', "'");
}

const OTHER_METHODS = ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'];

describe.each(DIALECTS)('405 Method Not Allowed on %s (RFC 9110 §15.5.6)', (dialect) => {
  let server: RunningServer;
  useTestServer(dialect, (started) => {
    server = started;
  });

  it('answers a GET on a POST-only page with 405, Allow and a page that says where to go (it was a 404)', async () => {
    const b = new TestBrowser(server.url);
    const username = await registerIn(b);
    for (const path of [ROUTES.revokeSessions, ROUTES.totpProvisionRemove, ROUTES.recoveryCodesGenerate, '/manage/account/delete']) {
      const page = await b.get(path, { accept: 'text/html' });
      expect(page.status, path).toBe(405);
      expect(page.headers.get('allow'), path).toBe('POST');
      expect(page.headers.get('content-type'), path).toMatch(/^text\/html/);
      expectPageHeaders(page, path);
      expect(alertOf(page.text), path).toBe(
        "This address only takes form submissions from this site's pages; it cannot be opened directly. Go to your account page instead.",
      );
      expect(page.text, path).toContain(`<a href="${ROUTES.manageAccount}">Back to your account</a>`);
      expect(page.text, path).toContain(username);
    }
    const head = await b.raw('HEAD', ROUTES.revokeSessions, undefined, {});
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    expect(head.text).toBe('');
  });

  it('answers the WebAuthn JSON endpoints with the JSON failure shape, and a browser with a page', async () => {
    const b = new TestBrowser(server.url);
    for (const accept of ['*/*', 'application/json']) {
      const json = await b.get(ROUTES.webauthnAuthenticateValidate, { accept });
      expect(json.status, accept).toBe(405);
      expect(json.headers.get('allow'), accept).toBe('POST');
      expect(json.headers.get('content-type'), accept).toMatch(/^application\/json/);
      expect(json.headers.get('cache-control'), accept).toBe('no-store');
      expect(json.headers.get('content-security-policy'), accept).toMatch(/^default-src 'self'/);
      expect(JSON.parse(json.text), accept).toEqual({
        fail: {
          errors: ["This address only takes requests from this site's pages; it cannot be opened directly. Go to the login page (/account/login/) instead."],
        },
      });
    }
    const page = await b.get(ROUTES.webauthnAuthenticateOptions, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(page.status).toBe(405);
    expect(page.headers.get('allow')).toBe('POST');
    expectPageHeaders(page, 'browser');
    expect(alertOf(page.text)).toBe("This address only takes requests from this site's pages; it cannot be opened directly. Go to the login page instead.");
    expect(page.text).toContain(`<a href="${ROUTES.login}">Go to the login page</a>`);
    const put = await b.raw('PUT', ROUTES.webauthnAuthenticateValidate, '{}', { 'content-type': 'application/json' });
    expect(put.status).toBe(405);
    // Refused before the session is read: pointed home, not at a login page a logged-in person does not need.
    expect(JSON.parse(put.text)).toEqual({
      fail: {
        errors: ["This address only takes requests from this site's pages; it does not accept PUT requests. Go to the home page (/) instead."],
      },
    });
  });

  it('answers other methods with 405 and the methods of that path, before sessions or CSRF; unknown paths stay 404', async () => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    const allowed: [string, string][] = [
      [ROUTES.login, 'GET, HEAD, POST'],
      [ROUTES.logout, 'GET, HEAD, POST'],
      [ROUTES.manageAccount, 'GET, HEAD'],
      [ROUTES.webauthnProvisionOptions, 'POST'],
      [ROUTES.revokeSessions, 'POST'],
      [ROUTES.healthz, 'GET, HEAD'],
    ];
    for (const [path, allow] of allowed) {
      for (const method of OTHER_METHODS) {
        const what = `${method} ${path}`;
        const page = await b.raw(method, path, undefined, { 'x-csrf-token': b.csrfToken, accept: 'text/html' });
        expect(page.status, what).toBe(405);
        expect(page.headers.get('allow'), what).toBe(allow);
        expectPageHeaders(page, what);
        expect(alertOf(page.text), what).toMatch(new RegExp(`does not accept ${method} requests`));
        const json = await b.raw(method, path, '{}', { 'content-type': 'application/json', accept: 'application/json' });
        expect(json.status, what).toBe(405);
        expect(JSON.parse(json.text).fail.errors[0], what).toMatch(new RegExp(`does not accept ${method} requests`));
      }
    }
    for (const path of ['/nowhere', `${ROUTES.login}x`, '/static/latchkey.css/x']) {
      for (const method of ['GET', 'POST', ...OTHER_METHODS]) {
        const what = `${method} ${path}`;
        const page = await b.raw(method, path, undefined, { accept: 'text/html' });
        expect(page.status, what).toBe(404);
        expect(page.headers.get('allow'), what).toBeNull();
        expect(page.text, what).toContain('There is no page at this address.');
      }
    }
  });

  it('answers a POST to a page that takes none with 405 (not an expired form), and the page is one click away', async () => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    for (const csrf of [false, b.csrfToken] as const) {
      const page = await b.post(ROUTES.manageAccount, {}, { csrf, headers: { accept: 'text/html' } });
      expect(page.status).toBe(405);
      expect(page.headers.get('allow')).toBe('GET, HEAD');
      expect(alertOf(page.text)).toBe('This page does not accept POST requests. Open the page instead.');
      expect(page.text).toContain(`<a class="button button-primary" href="${ROUTES.manageAccount}">Open the page</a>`);
    }
    const put = await b.raw('PUT', ROUTES.login, undefined, { accept: 'text/html' });
    expect(alertOf(put.text)).toBe('This page does not accept PUT requests. Open the page and use its form instead.');
  });

  it('leaves the methods that work alone: a POST without its CSRF token is still a 403, and the logout page is a 200', async () => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    const refused = await b.post(ROUTES.login, { [FIELDS.username]: 'nobody', [FIELDS.password]: 'x' }, { csrf: false });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('This form has expired or did not come from this site.');
    // Spelled differently, the router still finds the route, and so does the 405 check: CSRF, not 404 or 405.
    expect((await b.post('/ACCOUNT/LOGIN', {}, { csrf: false })).status).toBe(403);
    const logout = await b.get(ROUTES.logout);
    expect(logout.status).toBe(200);
    expect((await b.raw('HEAD', ROUTES.logout, undefined, {})).status).toBe(200);
    expect((await b.get(ROUTES.login)).status).toBe(200);
  });

  it('knows every path of the contract: each refuses PROPFIND with an Allow of its own, and GET where it has none', async () => {
    const b = new TestBrowser(server.url);
    await registerIn(b);
    const postOnly: string[] = [];
    for (const path of [...Object.values(ROUTES), ...Object.values(PASSWORD_ROUTES)]) {
      const response = await b.raw('PROPFIND', path, undefined, { accept: 'application/json' });
      expect(response.status, path).toBe(405);
      const allow = response.headers.get('allow')?.split(', ') ?? [];
      expect(allow.length, path).toBeGreaterThan(0);
      expect(
        allow.every((method) => ['GET', 'HEAD', 'POST'].includes(method)),
        path,
      ).toBe(true);
      expect(allow.includes('GET'), path).toBe(allow.includes('HEAD'));
      if (!allow.includes('GET')) {
        postOnly.push(path);
        const get = await b.get(path, { accept: 'application/json' });
        expect(get.status, path).toBe(405);
        expect(get.headers.get('allow'), path).toBe(allow.join(', '));
      }
    }
    // Each path's own methods (one `Allow: GET, HEAD, POST` for every address was the old answer).
    expect(postOnly).toEqual(expect.arrayContaining([ROUTES.webauthnAuthenticateValidate, ROUTES.revokeSessions, ROUTES.totpProvisionRemove]));
  });
});
