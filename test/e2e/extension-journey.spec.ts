import { readFileSync } from 'node:fs';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { test, expect } from '../src/kit/fixtures.js';
import { addVirtualAuthenticator, launchBrowserWithExtension, openPopup, type BrowserWithExtension } from '../src/kit/index.js';
import { startTestServer, type TestServer } from '../src/kit/start-test-server.js';
import { createUserIn } from '../src/kit/create-user-in.js';
import { addAccountByTyping, clickToolbarButton, createVault, PASSPHRASE, screenshotPopup, TOOLBAR_CLICK_ARGS } from './extension-helpers.js';
import { expectKeyCeremonyStarted, recordKeyStatus } from './journey-helpers.js';
import type { Page } from 'playwright-core';

// The extension journeys: a maintainer sets up TOTP by scanning the server's QR code with the
// extension, then logs in by pressing Fill; a lookalike origin gets nothing; locking hides codes.

// Playwright tracing attaches DevTools to the extension's service worker, and V8 then runs
// WebAssembly unoptimised for debugging: argon2id at 64 MiB took over 30 s instead of ~1-4 s here.
// Failures still leave screenshots and the error context.
test.use({ trace: 'off' });

let server: TestServer;
let browser: BrowserWithExtension;

test.beforeEach(async ({ dialect }) => {
  server = await startTestServer({ dialect });
  browser = await launchBrowserWithExtension({ args: TOOLBAR_CLICK_ARGS });
});
test.afterEach(async () => {
  await browser?.close();
  await server?.close();
});

async function logIn(page: Page, origin: string, user: { username: string; password: string }) {
  await page.goto(`${origin}${ROUTES.login}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('set up TOTP by scanning the QR with the extension, then log in with Fill', async ({}, testInfo) => {
  test.setTimeout(150_000);
  const user = await createUserIn(server, 'no-2fa');
  const page = await browser.context.newPage();
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.manageAccount}$`));
  await page.goto(`${server.url}${ROUTES.totpProvision}`);
  await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();

  // First run: the toolbar button opens the popup on the provisioning tab; it asks for a passphrase.
  await clickToolbarButton(browser, page);
  let popup = await openPopup(browser.context, { forPage: page });
  await expect(popup.getByRole('heading', { name: 'Set up Latchkey' })).toBeVisible();
  await popup.getByLabel('Passphrase', { exact: true }).fill('short');
  await expect(popup.getByText(/Too short/)).toBeVisible();
  await expect(popup.getByRole('button', { name: 'Create vault' })).toBeDisabled();
  await popup.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await popup.getByLabel('Confirm passphrase').fill(`${PASSPHRASE}!`);
  await expect(popup.getByText('Does not match the passphrase above.')).toBeVisible();
  await popup.getByLabel('Confirm passphrase').fill(PASSPHRASE);
  await screenshotPopup(popup, 'popup-create-vault', (n) => testInfo.outputPath(n));
  await popup.getByRole('button', { name: 'Create vault' }).click();
  await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible({ timeout: 30_000 });
  await screenshotPopup(popup, 'popup-empty', (n) => testInfo.outputPath(n));

  // Scan the QR code the server shows; the fill origin defaults to this tab's origin.
  await popup.getByRole('button', { name: 'Add account' }).last().click();
  await popup.getByRole('button', { name: 'Scan QR code on this tab' }).click();
  const issuer = server.config.rpName; // the issuer the server puts in its otpauth URI
  await expect(popup.getByText(`Found ${issuer} — ${user.username}`)).toBeVisible();
  await expect(popup.getByLabel('Fills on')).toHaveValue(server.url);
  await screenshotPopup(popup, 'popup-scan', (n) => testInfo.outputPath(n));
  await popup.getByRole('button', { name: 'Save account' }).click();
  const code = popup.locator('.account-code');
  await expect(code).toHaveAttribute('data-code', /^\d{6}$/);

  // Confirm TOTP on the page with the code the popup shows (as a person reading it would type it).
  const confirmCode = (await code.getAttribute('data-code'))!;
  await expect(code).toHaveText(`${confirmCode.slice(0, 3)} ${confirmCode.slice(3)}`);
  // A screen reader hears which account the digits belong to, then the digits (no aria-label on a plain span).
  await expect(code).not.toHaveAttribute('aria-label');
  await expect(popup.locator('.account-code-row .visually-hidden').filter({ hasText: /^Code for .+:$/ })).toHaveCount(1);
  await page.getByLabel('The 6-digit code your app shows now').fill(confirmCode);
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Save your recovery codes' })).toBeVisible();

  // Log out and back in: the password step leads to the two-factor page.
  await page.goto(`${server.url}${ROUTES.manageAccount}`);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.twoFactor}\\?`));

  // The code used to confirm is spent (replay refused): wait for the next period in the popup.
  popup = await openPopup(browser.context, { forPage: page });
  await expect(popup.getByText(`Two-factor step on ${server.url}`)).toBeVisible();
  await expect(popup.locator('.account-code')).not.toHaveAttribute('data-code', confirmCode, { timeout: 35_000 });
  const loginCode = (await popup.locator('.account-code').getAttribute('data-code'))!;
  await screenshotPopup(popup, 'popup-codes-fill', (n) => testInfo.outputPath(n));
  // The polite live region is there, empty, before anything is said: a status inserted already holding its
  // text is usually not announced by screen readers.
  const liveStatus = popup.locator('[role="status"].live-status').last();
  await expect(liveStatus).toBeEmpty();
  await popup.getByRole('button', { name: `Fill code for ${issuer} ${user.username}` }).click();
  await expect(liveStatus).toHaveText('Code filled. Check the page and continue.');
  await expect(page.locator(`input[name="${FIELDS.totpValue}"]`)).toHaveValue(loginCode);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(new RegExp(`${ROUTES.manageAccount}$`));

  // Lock now: codes disappear; unlocking brings them back.
  popup = await openPopup(browser.context, { forPage: page });
  await expect(popup.locator('.account-code')).toHaveCount(1);
  await popup.getByRole('button', { name: 'Lock now' }).click();
  await expect(popup.getByText('Your vault is locked.')).toBeVisible();
  await expect(popup.locator('.account-code')).toHaveCount(0);
  await expect(popup.locator('body')).not.toContainText(loginCode);
  await screenshotPopup(popup, 'popup-locked', (n) => testInfo.outputPath(n));
  await popup.getByLabel('Passphrase').fill('not the passphrase');
  await popup.getByRole('button', { name: 'Unlock' }).click();
  await expect(popup.getByText('Wrong passphrase.')).toBeVisible({ timeout: 30_000 });
  // A new popup after locking must not show codes either (the key is gone, not just hidden).
  popup = await openPopup(browser.context, { forPage: page });
  await expect(popup.getByText('Your vault is locked.')).toBeVisible();
  await popup.getByLabel('Passphrase').fill(PASSPHRASE);
  await popup.getByRole('button', { name: 'Unlock' }).click();
  await expect(popup.locator('.account-code')).toHaveAttribute('data-code', /^\d{6}$/, { timeout: 30_000 });
});

test('a lookalike origin (same server as 127.0.0.1, or another port) gets no code and a clear message', async ({}, testInfo) => {
  test.setTimeout(120_000);
  const user = await createUserIn(server, 'totp');
  const page = await browser.context.newPage();
  await page.goto(`${server.url}${ROUTES.login}`);

  // Add the account by typing it, bound to the server's real origin (http://localhost:PORT).
  const popup = await openPopup(browser.context, { forPage: page });
  await createVault(popup);
  await popup.getByRole('button', { name: 'Add account' }).last().click();
  await popup.getByRole('tab', { name: 'Type it' }).click();
  await popup.getByLabel('Issuer').fill('Latchkey');
  await popup.getByLabel('Account name').fill(user.username);
  await popup.getByLabel('Secret key').fill(user.totpSecret!.toLowerCase().replace(/(.{4})/g, '$1 '));
  await expect(popup.getByLabel('Fills on')).toHaveValue(server.url);
  await popup.getByRole('button', { name: 'Save account' }).click();
  await expect(popup.locator('.account-code')).toHaveAttribute('data-code', /^\d{6}$/);

  // The same server reached as 127.0.0.1 is a different origin: its two-factor page gets nothing.
  const lookalike = server.url.replace('localhost', '127.0.0.1');
  await logIn(page, lookalike, user);
  await expect(page).toHaveURL(new RegExp(`^${lookalike}${ROUTES.twoFactor}`));
  const onLookalike = await openPopup(browser.context, { forPage: page });
  await expect(onLookalike.getByText(`Two-factor step on ${lookalike}`)).toBeVisible();
  await expect(onLookalike.getByText(/No account here fills on this exact site, so Latchkey will not fill a code/)).toBeVisible();
  await expect(onLookalike.getByRole('button', { name: /^Fill code/ })).toHaveCount(0);
  await expect(page.locator(`input[name="${FIELDS.totpValue}"]`)).toHaveValue('');
  await screenshotPopup(onLookalike, 'popup-lookalike-refused', (n) => testInfo.outputPath(n));

  // The real origin, for contrast, offers Fill.
  await logIn(page, server.url, user);
  const onReal = await openPopup(browser.context, { forPage: page });
  await expect(onReal.getByRole('button', { name: `Fill code for Latchkey ${user.username}` })).toBeVisible();
  await onReal.emulateMedia({ colorScheme: 'dark' });
  await screenshotPopup(onReal, 'popup-codes-dark', (n) => testInfo.outputPath(n));
  await onReal.emulateMedia({ colorScheme: 'light' });

  // Settings: the auto-lock time is validated and saved.
  await onReal.getByRole('button', { name: 'Settings' }).click();
  await onReal.getByLabel('Lock after (minutes unused)').fill('5');
  await onReal.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(onReal.getByText('Settings saved.')).toBeVisible();
  await screenshotPopup(onReal, 'popup-settings', (n) => testInfo.outputPath(n));
});

test('"Use security key" presses the page’s own button, which starts the browser’s WebAuthn ceremony', async () => {
  test.setTimeout(120_000);
  const user = await createUserIn(server, 'key');
  const page = await browser.context.newPage();
  const authenticator = await addVirtualAuthenticator(page);
  await authenticator.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.twoFactor}\\?`));
  await expect(page.locator('#webauthn-status')).toHaveText('');

  const setup = await openPopup(browser.context, { forPage: page });
  await createVault(setup);
  // The hand-off is offered only on the index origins and the sites of the vault's accounts (any
  // page can have the button; the refusal is tested in handlers/security-key.test.ts and in Firefox).
  await addAccountByTyping(setup, { issuer: 'Latchkey', label: user.username, secret: 'JBSWY3DPEHPK3PXP' });
  const popup = await openPopup(browser.context, { forPage: page });
  await expect(popup.getByText(`Two-factor step on ${server.url}`)).toBeVisible();
  const useKey = popup.getByRole('button', { name: 'Use security key' });
  await expect(useKey).toBeVisible();
  await recordKeyStatus(page);
  const closed = popup.waitForEvent('close');
  await useKey.click();
  await closed; // the popup closes itself so the page gets focus back, as WebAuthn requires
  // What the extension owns — pressing the page's own button, never calling WebAuthn itself — is
  // asserted; the ceremony's completion depends on focus, which headless Chromium hands back unreliably.
  await expectKeyCeremonyStarted(page);
});

test('Scan QR on a page without a QR code says so', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}${ROUTES.login}`);
  await clickToolbarButton(browser, page);
  const popup = await openPopup(browser.context, { forPage: page });
  await createVault(popup);
  await popup.getByRole('button', { name: 'Add account' }).last().click();
  await popup.getByRole('button', { name: 'Scan QR code on this tab' }).click();
  await expect(popup.getByText('No QR code found on this page.')).toBeVisible();
  await expect(popup.getByRole('button', { name: 'Save account' })).toHaveCount(0);
});

test('import otpauth links: duplicates and bad lines are reported, nothing is overwritten; search appears past five accounts', async ({}, testInfo) => {
  test.setTimeout(120_000);
  const page = await browser.context.newPage();
  await page.goto(`${server.url}${ROUTES.login}`);
  const popup = await openPopup(browser.context, { forPage: page });
  await createVault(popup);
  const secrets = ['JBSWY3DPEHPK3PXP', 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', 'GEZDGNBVGY3TQOJQ', 'MFRGGZDFMZTWQ2LK', 'ONSWG4TFOQYTEMZU', 'KRSXG5CTMVRXEZLU'];
  const names = ['PyPI', 'GitHub', 'GitLab', 'Codeberg', 'npm', 'crates.io'];
  const lines = secrets.map((secret, i) => `otpauth://totp/${encodeURIComponent(names[i]!)}:alice?secret=${secret}&issuer=${encodeURIComponent(names[i]!)}`);
  const file = [...lines, lines[0], 'otpauth://totp/Broken:alice?secret=not-base32!', ''].join('\n');

  await popup.getByRole('button', { name: 'Settings' }).click();
  await popup
    .getByLabel('Import a backup or otpauth:// links (one per line)')
    .setInputFiles({ name: 'links.txt', mimeType: 'text/plain', buffer: Buffer.from(file) });
  await expect(popup.getByLabel('Imported links fill on')).toHaveValue(server.url);
  await popup.getByRole('button', { name: 'Import', exact: true }).click();
  const report = popup.locator('.import-report');
  await expect(report).toContainText('6 accounts added.');
  await expect(report).toContainText('Skipped 1, the same secret for the same site as an account already there or earlier in this import:');
  // Line 7 repeats line 1 of the file: it is not "already in the vault" (QA: the report said so).
  await expect(report).toContainText('Line 7: “PyPI: alice”, repeats line 1 of this file');
  await expect(report).toContainText('Line 8: The secret must be base32');
  await report.scrollIntoViewIfNeeded();
  await screenshotPopup(popup, 'popup-import-report', (n) => testInfo.outputPath(n));

  // The six are in no backup yet, and the card says so; exporting one (a real download) says they are.
  await expect(popup.getByText('No backup yet. If you forget your passphrase, a backup is the only way to get these 6 accounts back.')).toBeVisible();
  await popup.getByRole('heading', { name: 'Backup' }).scrollIntoViewIfNeeded();
  await screenshotPopup(popup, 'popup-backup-due', (n) => testInfo.outputPath(n));
  const [download] = await Promise.all([popup.waitForEvent('download'), popup.getByRole('button', { name: 'Export encrypted backup' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^latchkey-backup-\d{4}-\d\d-\d\d\.json$/);
  const backup = readFileSync((await download.path())!, 'utf8');
  for (const secret of secrets) expect(backup).not.toContain(secret);
  await expect(popup.getByText(/^Last backup \d{4}-\d\d-\d\d, with every account\.$/)).toBeVisible();

  // Importing the same file again adds nothing.
  await popup
    .getByLabel('Import a backup or otpauth:// links (one per line)')
    .setInputFiles({ name: 'links.txt', mimeType: 'text/plain', buffer: Buffer.from(file) });
  await popup.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(report).toContainText('0 accounts added.');

  await popup.keyboard.press('Escape');
  await expect(popup.locator('.account')).toHaveCount(6);
  const search = popup.getByLabel('Search accounts');
  await search.fill('git');
  await expect(popup.locator('.account-issuer')).toHaveText(['GitHub', 'GitLab']);
  await search.fill('nothing like this');
  await expect(popup.getByText('No account matches')).toBeVisible();
});
