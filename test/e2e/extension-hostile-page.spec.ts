import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from '../src/kit/fixtures.js';
import { openPopup } from '../src/kit/index.js';
import { createVault } from './extension-helpers.js';

// What a hostile page, or a second open page of the extension, could do to the vault's state (QA h3, in
// Chromium with the test build). Each check failed on the build before its fix.

// Tracing attaches DevTools to the service worker, where V8 runs the argon2 WebAssembly unoptimised.
test.use({ trace: 'off' });

/**
 * One loopback server: `/` is an ordinary page, `/drip` one whose response never ends (a byte a second),
 * so the page never finishes loading. Reached as `localhost` and as `127.0.0.1` — two origins the test
 * build may both run its page functions in.
 */
async function startPages() {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (request.url !== '/drip') return void response.end('<!doctype html><title>Plain</title><p>Plain page</p>');
    response.write(`<!doctype html><title>Still loading</title><p>Still loading…</p>${' '.repeat(2048)}`);
    const drip = setInterval(() => response.write(' '), 1000);
    request.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    plain: `http://localhost:${port}/`,
    dripping: `http://127.0.0.1:${port}/drip`,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

async function sessionItems(worker: { evaluate<R>(fn: () => R | Promise<R>): Promise<R> }): Promise<string[]> {
  return worker.evaluate(async () =>
    Object.keys(await (globalThis as unknown as { chrome: { storage: { session: { get(k: null): Promise<object> } } } }).chrome.storage.session.get(null)),
  );
}

test('a page that never finishes loading cannot hold the extension: Lock now, opened over it, locks at once', async ({ extension }) => {
  const pages = await startPages();
  try {
    const plain = await extension.context.newPage();
    await plain.goto(pages.plain);
    await createVault(await openPopup(extension.context, { forPage: plain }));

    // The popup asks what the page offers (Fill, a security key) by running a function in it, which the
    // browser does only once the page has loaded: never, here. That wait held every request behind it —
    // Lock now got no answer and the key stayed in storage for as long as the page kept loading.
    const hostile = await extension.context.newPage();
    await hostile.goto(pages.dripping, { waitUntil: 'commit' });
    const popup = await openPopup(extension.context, { forPage: hostile });
    await expect(popup.getByRole('button', { name: 'Lock now' })).toBeVisible();
    await popup.getByRole('button', { name: 'Lock now' }).click();
    // Well within the 5 s the background gives a page function: Lock now does not wait on the page at all.
    await expect(popup.getByText('Your vault is locked.')).toBeVisible({ timeout: 4_000 });
    expect(await sessionItems(extension.serviceWorker)).not.toContain('vaultKey');

    // Another tab's popup opens on its first screen too (it used to show nothing while the page loaded).
    const again = await openPopup(extension.context, { forPage: plain });
    await expect(again.getByText('Your vault is locked.')).toBeVisible({ timeout: 4_000 });
  } finally {
    await pages.close();
  }
});

test('locking in one page of the extension takes every other open page to the lock screen at once, codes and names gone', async ({ extension }) => {
  // Two pages of the extension at once, as with Firefox's Import tab and its toolbar popup.
  const view = `chrome-extension://${extension.extensionId}/src/popup/index.html?view=tab`;
  const first = await extension.context.newPage();
  await first.goto(view);
  await createVault(first);
  // A 300 s period: the other page used to keep showing the live code until the period ended.
  await first.getByRole('button', { name: 'Add account' }).last().click();
  await first.getByRole('tab', { name: 'Paste link' }).click();
  await first.getByLabel('otpauth:// link').fill('otpauth://totp/PyPI:alice-h3?secret=JBSWY3DPEHPK3PXP&issuer=PyPI&period=300');
  await first.getByRole('button', { name: 'Save account' }).click();
  await expect(first.locator('.account-code')).toHaveAttribute('data-code', /^\d{6}$/);

  const second = await extension.context.newPage();
  await second.goto(view);
  await expect(second.locator('.account-code')).toHaveAttribute('data-code', /^\d{6}$/);
  await expect(second.getByText('alice-h3', { exact: true })).toBeVisible();

  await first.bringToFront();
  await first.getByRole('button', { name: 'Lock now' }).click();
  await expect(first.getByText('Your vault is locked.')).toBeVisible();
  await expect(second.getByText('Your vault is locked.')).toBeVisible({ timeout: 5_000 });
  await expect(second.locator('.account-code')).toHaveCount(0);
  await expect(second.locator('body')).not.toContainText('alice-h3');
});

test('Lock now that the background could not carry out says so and keeps the list: never a lock screen over a kept key', async ({ extension }) => {
  const page = await extension.context.newPage();
  await page.goto('about:blank');
  const popup = await openPopup(extension.context, { forPage: page });
  await createVault(popup);
  // The session area refuses to let the key go (as a storage failure would).
  await extension.serviceWorker.evaluate(() => {
    const area = (globalThis as unknown as { chrome: { storage: { session: { remove: (key: string) => Promise<void> } } } }).chrome.storage.session;
    area.remove = () => Promise.reject(new Error('storage is unavailable'));
  });
  await popup.getByRole('button', { name: 'Lock now' }).click();
  await expect(popup.getByText(/The vault was not locked: .*storage is unavailable/)).toBeVisible();
  await expect(popup.getByText('Your vault is locked.')).toHaveCount(0);
  expect(await sessionItems(extension.serviceWorker)).toContain('vaultKey');
});
