import { ROUTES } from '@latchkey/shared';
import { expect, test } from '../src/kit/fixtures.js';
import type { Page } from 'playwright-core';
import { addVirtualAuthenticator, createUserIn, openPopup, unlockVault, type BrowserWithExtension, type TestServer } from '../src/kit/index.js';
import { addAccountByTyping } from './extension-helpers.js';
import { expectKeyCeremonyStarted, logIn, recordKeyStatus, saveScreenshot, TWO_FACTOR_URL } from './journey-helpers.js';

// Security-key fallback through the extension: the account has TOTP and a key, the extension's vault
// is locked (no codes available), and the maintainer logs in by pressing "Use security key" in the
// popup, which clicks the page's own button so the browser's WebAuthn prompt (here a virtual key) answers.
const PASSPHRASE = 'correct horse battery staple';

// Tracing attaches DevTools to the extension's service worker, and V8 then runs the vault's WebAssembly
// argon2id unoptimised (see extension-journey.spec.ts). Failures still leave screenshots.
test.use({ trace: 'off' });

/**
 * A TOTP + key user whose registered key is plugged into this tab (a virtual authenticator), a locked
 * vault, the password step done: returns the popup opened on the two-factor page.
 */
async function atTwoFactorStepWithLockedVault(server: TestServer, extension: BrowserWithExtension, page: Page): Promise<Page> {
  const user = await createUserIn(server, 'totp+key+recovery');
  await lockedVault(extension, page, server, { issuer: 'Latchkey', label: user.username, secret: user.totpSecret! });
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  return openPopup(extension.context, { forPage: page });
}

/**
 * Creates the vault in a first popup with the user's account for this server (the security key is
 * offered only on the sites of the vault's accounts) and locks it again, as after a browser restart.
 */
async function lockedVault(extension: BrowserWithExtension, page: Page, server: TestServer, account: Parameters<typeof addAccountByTyping>[1]): Promise<void> {
  await page.goto(`${server.url}${ROUTES.login}`);
  const popup = await openPopup(extension.context, { forPage: page });
  await expect(popup.getByRole('heading', { name: 'Set up Latchkey' })).toBeVisible({ timeout: 30_000 });
  await popup.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await popup.getByLabel('Confirm passphrase').fill(PASSPHRASE);
  await popup.getByRole('button', { name: 'Create vault' }).click();
  await expect(popup.getByRole('heading', { name: 'No accounts yet' })).toBeVisible({ timeout: 60_000 });
  await addAccountByTyping(popup, account);
  await popup.getByRole('button', { name: 'Lock now' }).click();
  await expect(popup.getByText('Your vault is locked.')).toBeVisible();
}

test('TOTP + key, vault locked: the popup still offers “Use security key”, which starts the page’s key ceremony', async ({
  server,
  extension,
  extensionPage: page,
}) => {
  const popup = await atTwoFactorStepWithLockedVault(server, extension, page);
  await expect(popup.getByText('Your vault is locked.')).toBeVisible();
  // A security key needs no vault: the locked popup must still offer it (issue 6, item 3).
  await recordKeyStatus(page);
  await popup.getByRole('button', { name: 'Use security key' }).click();
  await expectKeyCeremonyStarted(page);
});

test('unlockVault refuses a wrong passphrase with the popup’s message, unlocks with the right one; “Use security key” hands over to the page', async ({
  server,
  extension,
  extensionPage: page,
}, testInfo) => {
  const popup = await atTwoFactorStepWithLockedVault(server, extension, page);
  await expect(unlockVault(popup, 'not the passphrase')).rejects.toThrow(/refused the passphrase: Wrong passphrase/);
  await expect(popup.getByText('Your vault is locked.')).toBeVisible();
  await unlockVault(popup, PASSPHRASE);
  await expect(popup.getByText(`Two-factor step on`)).toBeVisible();
  await saveScreenshot(popup, 'popup-security-key', testInfo);
  await recordKeyStatus(page);
  await popup.getByRole('button', { name: 'Use security key' }).click();
  await expectKeyCeremonyStarted(page);
});
