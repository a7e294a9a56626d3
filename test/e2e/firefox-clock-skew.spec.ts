import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '../src/kit/fixtures.js';
import { launchFirefoxWithExtension } from '../src/kit/index.js';
import { click, createVaultInFirefox, type, waitForText } from './firefox-helpers.js';

// The popup's warning that this computer's clock is off from the site's (docs/extension.md, "When the computer's
// clock is off") in real Firefox ESR, with the shipped build: the loopback site's access is granted from the add
// form, as a person would (firefox-journey.spec.ts), so the reading goes through Firefox's own
// `permissions.contains` and its background `fetch` (credentials omitted, redirects not followed, a timeout).

const PASSPHRASE = 'correct horse battery staple';
const SECRET = 'JBSWY3DPEHPK3PXP';

test('a site whose clock is 3 minutes behind gets a polite warning naming it, from one cookieless HEAD kept between popups', async () => {
  test.setTimeout(120_000);
  const requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  // `/` sets a cookie, so the browser holds one the extension's request could carry.
  const site = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    response.writeHead(200, {
      date: new Date(Date.now() - 180_000).toUTCString(),
      'content-type': 'text/html; charset=utf-8',
      'set-cookie': 'session=signed-in; Path=/; HttpOnly; SameSite=Lax',
    });
    response.end('<!doctype html><title>Index</title><p>An index</p>');
  });
  await new Promise<void>((listening) => site.listen(0, '127.0.0.1', listening));
  const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const heads = () => requests.filter((request) => request.method === 'HEAD');
  const firefox = await launchFirefoxWithExtension();
  try {
    const page = await firefox.browser.newPage();
    await page.goto(`${origin}/`);
    expect(await page.evaluate(() => navigator.cookieEnabled)).toBe(true);
    expect(requests.find((request) => request.method === 'GET')?.headers.cookie).toBeUndefined();
    await page.reload(); // the second load carries the cookie: the browser holds it
    expect(requests.filter((request) => request.method === 'GET').at(-1)?.headers.cookie).toBe('session=signed-in');

    let popup = await firefox.openPopup(page);
    await createVaultInFirefox(popup, PASSPHRASE);
    await click(popup, 'Add account');
    await click(popup, 'Type it');
    await type(popup, 'Issuer', 'Skewed');
    await type(popup, 'Account name', 'alice');
    await type(popup, 'Secret key', SECRET);
    await type(popup, 'Fills on', origin);
    await click(popup, 'Save account');
    await waitForText(popup, 'Added Skewed (alice).');
    expect(heads()).toEqual([]); // no host access yet: not asked
    await click(popup, `Allow access to ${origin}`);
    await waitForText(popup, `Latchkey may now recognise ${origin} by itself.`);
    await popup.close();

    // With the grant the popup sees the tab's origin: one HEAD to its root, and the warning in a polite live
    // region (role="status") naming the origin; this computer is ahead of the site.
    popup = await firefox.openPopup(page);
    const warningText = () =>
      popup.evaluate(() =>
        Array.from(document.querySelectorAll('[role="status"]'))
          .map((region) => region.textContent ?? '')
          .find((text) => text.includes('This computer’s clock is')),
      );
    await popup.waitForFunction(
      () => Array.from(document.querySelectorAll('[role="status"]')).some((region) => region.textContent?.includes('This computer’s clock is')),
      { timeout: 10_000 },
    );
    expect(await warningText()).toMatch(
      new RegExp(`clock is (3 minutes|2 minutes 59 seconds|3 minutes 1 second) ahead of ${origin.replace(/\./g, '\\.')}’s\\. Codes may be refused`),
    );
    expect(heads()).toHaveLength(1);
    expect(heads()[0]?.url).toBe('/');
    expect(heads()[0]?.headers.cookie).toBeUndefined();
    await popup.close();

    // Opened again within ten minutes: the warning again, from the kept reading, with no new request.
    popup = await firefox.openPopup(page);
    await popup.waitForFunction(
      () => Array.from(document.querySelectorAll('[role="status"]')).some((region) => region.textContent?.includes('This computer’s clock is')),
      { timeout: 10_000 },
    );
    expect(heads()).toHaveLength(1);
    await popup.close();
  } finally {
    await firefox.close();
    await new Promise<void>((closed) => {
      site.closeAllConnections();
      site.close(() => closed());
    });
  }
});
