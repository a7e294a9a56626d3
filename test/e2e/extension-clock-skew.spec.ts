import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from '../src/kit/fixtures.js';
import { openPopup } from '../src/kit/index.js';
import { addAccountByTyping, createVault, screenshotPopup } from './extension-helpers.js';

// The popup's warning that this computer's clock is off from the site's (docs/extension.md, "When the computer's
// clock is off"), in Chromium with the test build, which may reach loopback sites as it may the index origins.

// Tracing attaches DevTools to the service worker, where V8 runs the argon2 WebAssembly unoptimised.
test.use({ trace: 'off' });

const SECRET = 'JBSWY3DPEHPK3PXP';

/**
 * A loopback site whose clock is `skewMs` off (its `Date` header; negative: behind). `/` is a page that sets a
 * cookie, so there is one the extension's request could carry. Every request is recorded.
 */
async function startSite(skewMs: number) {
  const requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    response.writeHead(200, {
      date: new Date(Date.now() + skewMs).toUTCString(),
      'content-type': 'text/html; charset=utf-8',
      'set-cookie': 'session=signed-in; Path=/; HttpOnly; SameSite=Lax',
    });
    response.end('<!doctype html><title>Index</title><p>An index</p>');
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    origin: `http://127.0.0.1:${port}`,
    port,
    /** The extension's clock readings: HEAD requests (the page's own loads are GETs). */
    heads: () => requests.filter((request) => request.method === 'HEAD'),
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

const WARNING = /This computer’s clock is/;

test('a site whose clock is 3 minutes behind gets a polite warning naming it; a right clock and a site without an account get none', async ({
  extension,
}, testInfo) => {
  const skewed = await startSite(-180_000);
  const right = await startSite(0);
  try {
    const page = await extension.context.newPage();
    await page.goto(skewed.url);
    // The site's cookie is in the browser: the reading must not carry it.
    expect((await extension.context.cookies(skewed.url)).map((cookie) => cookie.name)).toContain('session');
    let popup = await openPopup(extension.context, { forPage: page });
    await createVault(popup);
    expect(skewed.heads()).toEqual([]); // no account for the site yet: not asked
    await addAccountByTyping(popup, { issuer: 'Skewed', label: 'alice', secret: SECRET });

    // Once the site has an account, one cookieless HEAD to its root, and the warning in a polite live region
    // (role="status"): this computer is ahead of the site.
    const warning = popup.getByRole('status').filter({ hasText: WARNING });
    await expect(warning).toBeVisible();
    await expect(warning).toHaveText(
      new RegExp(`clock is (3 minutes|2 minutes 59 seconds|3 minutes 1 second) ahead of ${skewed.origin}’s\\. Codes may be refused`),
    );
    await screenshotPopup(popup, 'popup-clock-warning', (n) => testInfo.outputPath(n));
    expect(skewed.heads()).toHaveLength(1);
    expect(skewed.heads()[0]?.url).toBe('/');
    expect(skewed.heads()[0]?.headers.cookie).toBeUndefined();

    // Opened again within ten minutes: the warning again, from the kept reading, with no new request.
    popup = await openPopup(extension.context, { forPage: page });
    await expect(popup.getByRole('status').filter({ hasText: WARNING })).toBeVisible();
    expect(skewed.heads()).toHaveLength(1);

    // The same server as `localhost`: another origin, with no account there, so never asked.
    const stranger = await extension.context.newPage();
    await stranger.goto(`http://localhost:${skewed.port}/`);
    popup = await openPopup(extension.context, { forPage: stranger });
    await expect(popup.locator('.account .account-code').first()).toBeVisible();

    // A site whose clock is right: asked once, and nothing said.
    const rightPage = await extension.context.newPage();
    await rightPage.goto(right.url);
    popup = await openPopup(extension.context, { forPage: rightPage });
    await addAccountByTyping(popup, { issuer: 'Right', label: 'bob', secret: SECRET });
    await expect.poll(() => right.heads().length).toBe(1);
    // Past the live region's own delay (LiveStatus, 50 ms) with room to spare.
    await popup.waitForTimeout(500);
    await expect(popup.getByText(WARNING)).toHaveCount(0);
    expect(right.heads()[0]?.headers.cookie).toBeUndefined();
    expect(skewed.heads()).toHaveLength(1);
  } finally {
    await Promise.all([skewed.close(), right.close()]);
  }
});
