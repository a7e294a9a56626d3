import { FIELDS, isolate, ROUTES } from '@latchkey/shared';
import type { Page } from 'playwright-core';
import { test, expect } from '../src/kit/fixtures.js';
import { addVirtualAuthenticator } from '../src/kit/add-virtual-authenticator.js';
import { currentTotp } from '../src/kit/current-totp.js';
import { createUserIn } from '../src/kit/create-user-in.js';
import { startTestServer, type TestServer } from '../src/kit/start-test-server.js';
import { saveAndConfirmRecoveryCodes, saveScreenshot } from './journey-helpers.js';
import { POSTGRES_TOO } from './projects.js';

// Security-key journeys in Debian Chromium with the DevTools virtual authenticator (CTAP2, USB,
// automatic presence): what a maintainer clicks, on both database backends.

let server: TestServer;
test.beforeEach(async ({ dialect }) => {
  // Each journey is a dozen page loads; on a shared 2-core machine a page load can take seconds.
  test.setTimeout(180_000);
  server = await startTestServer({ dialect });
});
test.afterEach(async () => {
  await server?.close();
});

async function logIn(page: Page, user: { username: string; password: string }, origin = server.url): Promise<void> {
  await page.goto(`${origin}${ROUTES.login}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
}

const accountUrl = () => new RegExp(`${ROUTES.manageAccount}$`);

test('add a security key, log out, log in with it', { tag: POSTGRES_TOO }, async ({ page, dialect }) => {
  const user = await createUserIn(server, 'no-2fa');
  const key = await addVirtualAuthenticator(page);
  await logIn(page, user);
  await expect(page).toHaveURL(accountUrl());

  await page.getByRole('link', { name: 'Add a security key' }).click();
  await expect(page.getByRole('heading', { name: 'Security keys', level: 1 })).toBeVisible();
  // A label is required before the key is asked for.
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.locator('#webauthn-provision-status')).toHaveText(/Give the key a name first/);
  await page.getByLabel('Name', { exact: true }).fill('Blue USB key');
  await page.getByRole('button', { name: 'Add security key' }).click();

  // The first second factor: recovery codes are offered right away, as with TOTP.
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  expect(await key.getCredentials()).toHaveLength(1);
  await saveAndConfirmRecoveryCodes(page);
  const keys = page.locator('#webauthn-key-list');
  await expect(keys.getByRole('cell', { name: 'Blue USB key' })).toBeVisible();
  await expect(keys.getByRole('row', { name: /Blue USB key/ })).toContainText('Never');

  // Adding the same physical key again is refused by the browser (excludeCredentials), in plain words.
  await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
  await page.getByLabel('Name', { exact: true }).fill('Same key again');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.locator('#webauthn-provision-status')).toHaveText('This security key is already registered to your account.');
  await expect(page.getByRole('button', { name: 'Add security key' })).toBeEnabled();
  // The button was disabled during the ceremony; focus moved to the message instead of dropping to <body>.
  await expect(page.locator('#webauthn-provision-status')).toBeFocused();
  await saveScreenshot(page, 'security-keys-page', test.info());

  await logOut(page);
  await logIn(page, user);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.twoFactor}\\?token=`));
  await expect(page.locator(`input[name="${FIELDS.totpValue}"]`)).toHaveCount(0);
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page).toHaveURL(accountUrl());
  await expect(page.getByText(`Logged in as ${user.username}`)).toBeVisible();
  await expect(page.locator('#webauthn-key-list').getByRole('row', { name: /Blue USB key/ })).not.toContainText('Never');
  await expect(page.getByRole('cell', { name: 'Security key “Blue USB key” used' })).toBeVisible();
  if (dialect === 'sqlite') {
    await page.locator('#webauthn-key-list summary', { hasText: 'Remove' }).click();
    await saveScreenshot(page.locator('section', { has: page.getByRole('heading', { name: 'Security keys' }) }), 'account-security-keys', test.info());
  }
  // The counter the key reports is the one the server stored.
  const stored = await server.services.db.selectFrom('webauthn_credentials').select('sign_count').where('user_id', '=', user.id).executeTakeFirstOrThrow();
  expect(Number(stored.sign_count)).toBe((await key.getCredentials())[0]?.signCount);
  expect(Number(stored.sign_count)).toBeGreaterThan(0);
});

test('a removed key is refused; the button works again without a reload', async ({ page }) => {
  // The account already has one key ("Test key", held by the kit's software key, not by the browser).
  const user = await createUserIn(server, 'key');
  const browserKey = await addVirtualAuthenticator(page);
  await browserKey.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, user);
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page).toHaveURL(accountUrl());

  // Add a second key in the browser (a different key: the first one is refused as already registered),
  // then remove it with the password. The first key is put aside with its current signature counter.
  const [testKey] = await browserKey.getCredentials();
  await browserKey.clearCredentials();
  await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
  await page.getByLabel('Name', { exact: true }).fill('Lost key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  // This account had a key but no recovery codes yet, so they are offered now.
  await saveAndConfirmRecoveryCodes(page);
  await expect(page.locator('#webauthn-key-list').getByRole('cell', { name: 'Lost key' })).toBeVisible();
  const [lostKey, ...others] = await browserKey.getCredentials();
  expect(lostKey).toBeDefined();
  expect(others).toHaveLength(0);

  // A second add with recovery codes in place stays on the key list and says so.
  await browserKey.clearCredentials();
  await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
  await page.getByLabel('Name', { exact: true }).fill('Spare key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  // A flash is text: the label is an isolate in it (FSI … PDI, invisible), so a right-to-left one keeps its own order.
  await expect(page.getByText(`Security key “${isolate('Spare key')}” added. Your recovery codes still work.`)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`${ROUTES.webauthnProvision}$`));
  // Focus lands on the news, not on <body>.
  await expect(page.getByRole('status').filter({ hasText: 'Spare key' })).toBeFocused();
  await expect(page.locator('#webauthn-key-list').getByRole('row')).toHaveCount(4); // header + 3 keys
  await browserKey.clearCredentials();
  await page.goto(`${server.url}${ROUTES.manageAccount}`);

  const row = page.locator('#webauthn-key-list').getByRole('row', { name: /Lost key/ });
  await row.locator('summary', { hasText: 'Remove' }).click();
  await row.getByLabel('Confirm with your password').fill('not the password');
  await row.getByRole('button', { name: 'Remove “Lost key”' }).click();
  await expect(page.getByRole('alert')).toContainText('That password is not correct.');
  await expect(page.getByRole('alert')).toBeFocused();
  // The refused removal comes back open, the reason on its field: no second press on "Remove" to find it again.
  const rowAgain = page.locator('#webauthn-key-list').getByRole('row', { name: /Lost key/ });
  await expect(rowAgain.getByLabel('Confirm with your password')).toBeVisible();
  await expect(rowAgain.getByLabel('Confirm with your password')).toHaveAttribute('aria-invalid', 'true');
  await rowAgain.getByLabel('Confirm with your password').fill(user.password);
  await rowAgain.getByRole('button', { name: 'Remove “Lost key”' }).click();
  await expect(page.getByText(`Security key “${isolate('Lost key')}” removed.`)).toBeVisible();
  await expect(page.locator('#webauthn-key-list').getByRole('cell', { name: 'Lost key' })).toHaveCount(0);

  // Give the browser's key back only the removed credential: the login with it fails, in words.
  await browserKey.cdp.send('WebAuthn.addCredential', { authenticatorId: browserKey.authenticatorId, credential: lostKey! });
  await logOut(page);
  await logIn(page, user);
  const button = page.getByRole('button', { name: 'Use security key' });
  await button.click();
  const status = page.locator('#webauthn-status');
  await expect(status).toHaveText(/the request was cancelled, or the key is not one you added to this account/);
  await expect(page).toHaveURL(new RegExp(`${ROUTES.twoFactor}\\?token=`));
  await expect(button).toBeEnabled();
  await saveScreenshot(page, 'two-factor-security-key-error', test.info());

  // Plug the registered key back in and press the same button: in, no reload needed.
  await browserKey.cdp.send('WebAuthn.addCredential', { authenticatorId: browserKey.authenticatorId, credential: testKey! });
  await button.click();
  await expect(page).toHaveURL(accountUrl());
});

test('with TOTP and a key both enabled, either one logs in', async ({ page }) => {
  const user = await createUserIn(server, 'totp+key+recovery');
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(user.securityKey!.credentials[0]!);

  await logIn(page, user);
  await expect(page.getByRole('button', { name: 'Use security key' })).toBeVisible();
  await expect(page.locator(`input[name="${FIELDS.totpValue}"]`)).toBeVisible();
  await saveScreenshot(page, 'two-factor-key-and-totp', test.info());
  await page.locator(`input[name="${FIELDS.totpValue}"]`).fill(currentTotp(user.totpSecret!));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(accountUrl());

  await logOut(page);
  await logIn(page, user);
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page).toHaveURL(accountUrl());
  await expect(page.getByRole('cell', { name: 'Security key “Test key” used' })).toBeVisible();
});

test('a page opened at an address the key is not scoped to says "not allowed here"', async ({ page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(user.securityKey!.credentials[0]!);
  // Same server, reached by IP: the browser refuses the rpID "localhost" there.
  const byIp = server.url.replace('//localhost:', '//127.0.0.1:');
  await logIn(page, user, byIp);
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page.locator('#webauthn-status')).toHaveText(/Security keys are not allowed on this address/);
  await expect(page.getByRole('button', { name: 'Use security key' })).toBeEnabled();
});

test('a page left open past the 5 minutes asks for the password in place; a retry does not ask again', async ({ page }) => {
  const user = await createUserIn(server, 'no-2fa');
  await addVirtualAuthenticator(page);
  await logIn(page, user);
  await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
  const password = page.getByLabel('Your password');
  // Rendered inside the 5 minutes: no password asked.
  await expect(password).toBeHidden();

  // The page stays open; the login grows older than 5 minutes. The server now wants the password, and the
  // page offers the field right there (before: "Enter your password to confirm." with no field, so only a reload helped).
  server.clock.advance(6 * 60_000);
  await page.getByLabel('Name', { exact: true }).fill('Desk key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  const status = page.locator('#webauthn-provision-status');
  await expect(status).toHaveText(/More than 5 minutes have passed .* Enter your password/);
  await expect(password).toBeVisible();
  await expect(password).toBeFocused();

  // Password accepted, key touched, then the connection drops before the server hears back.
  await page.route(`**${ROUTES.webauthnProvisionValidate}`, (route) => route.abort('internetdisconnected'));
  await password.fill(user.password);
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(status).toHaveText('Could not reach the server. Check your connection and try again.');
  await expect(status).toBeFocused();
  await page.unroute(`**${ROUTES.webauthnProvisionValidate}`);

  // The retry needs no retyping: the server accepted the password a moment ago (before: "Enter your password first").
  await expect(password).toBeHidden();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Desk key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
});

test('a two-factor page left open past its login’s 5 minutes offers "Log in again" instead of a button that only fails', async ({ page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, user);
  server.clock.advance(5 * 60_000 + 1_000);
  await page.getByRole('button', { name: 'Use security key' }).click();
  const status = page.locator('#webauthn-status');
  await expect(status).toContainText('expired');
  await expect(status).toBeFocused();
  await expect(page.getByRole('button', { name: 'Use security key' })).toBeHidden();
  await page.locator('#webauthn-restart').getByRole('link', { name: 'Log in again' }).click();
  await expect(page).toHaveURL(new RegExp(`${ROUTES.login}$`));
});
