import { FIELDS, isolate, ROUTES } from '@latchkey/shared';
import type { Page } from 'playwright-core';
import { test, expect } from '../src/kit/fixtures.js';
import { addVirtualAuthenticator } from '../src/kit/add-virtual-authenticator.js';
import { createUserIn } from '../src/kit/create-user-in.js';
import { currentTotp } from '../src/kit/current-totp.js';
import type { TestServer } from '../src/kit/start-test-server.js';
import { ACCOUNT_URL, logIn, saveScreenshot, TWO_FACTOR_URL } from './journey-helpers.js';

// What a maintainer with a physical key meets when the key step does not simply work, in Debian Chromium with
// the DevTools virtual authenticator: a key that refuses its PIN or fingerprint, a prompt left until it times
// out, a key of another account, the key removed meanwhile, two tabs, a double press, the keyboard, no JavaScript.

/** What the page says for a NotAllowedError before the timeout (server/src/client/webauthn-ceremony-error.ts). */
const NOT_CONFIRMED_AT_LOGIN =
  'The security key did not confirm it was you, the request was cancelled, or the key is not one you added to this account (your browser does not say which). Try again, or use another method.';

const useKey = (page: Page) => page.getByRole('button', { name: 'Use security key' });
const keyStatus = (page: Page) => page.locator('#webauthn-status');

/** The tags the server recorded for the user, newest first. */
async function historyTags(server: TestServer, userId: string): Promise<string[]> {
  return (await server.services.events.list(userId)).map((event) => event.tag);
}

/** Lets the options through with a shorter `timeout`, so the browser's wait ends in seconds (the server asks 2 minutes). */
async function shortenCeremonyTimeout(page: Page, route: string, timeoutMs: number): Promise<void> {
  await page.route(`**${route}*`, async (intercepted) => {
    const response = await intercepted.fetch();
    const options = (await response.json()) as Record<string, unknown>;
    await intercepted.fulfill({ response, json: { ...options, timeout: timeoutMs } });
  });
}

test('a key that refuses the PIN or fingerprint is not called a cancel; the button works again and a verified touch logs in', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page, { isUserVerified: false });
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  const before = await historyTags(server, user.id);

  await useKey(page).click();
  // Before: "The security key request was cancelled, or the key you used is not registered to this account."
  await expect(keyStatus(page)).toHaveText(NOT_CONFIRMED_AT_LOGIN);
  await expect(keyStatus(page)).toHaveClass(/notice-error/);
  await expect(keyStatus(page)).toBeFocused();
  await expect(useKey(page)).toBeEnabled();
  await saveScreenshot(page, 'two-factor-key-not-confirmed', test.info());
  // The browser refused on its own: nothing reached the server, nothing is recorded.
  expect(await historyTags(server, user.id)).toEqual(before);

  await key.setUserVerified(true);
  await useKey(page).click();
  await expect(page).toHaveURL(ACCOUNT_URL);
});

test('adding a key that refuses the PIN says so, without claiming a cancel or an unregistered key', async ({ server, page }) => {
  const user = await createUserIn(server, 'no-2fa');
  await addVirtualAuthenticator(page, { isUserVerified: false });
  await logIn(page, server.url, user);
  await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
  await page.getByLabel('Name', { exact: true }).fill('Desk key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  const status = page.locator('#webauthn-provision-status');
  await expect(status).toHaveText(
    'The security key did not confirm it was you, or the request was cancelled (your browser does not say which). Press “Add security key” to try again.',
  );
  await expect(status).toBeFocused();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Desk key');
  await saveScreenshot(page, 'security-keys-not-confirmed', test.info());
});

test('user verification is preferred, not required: a key without a PIN logs in', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page, { hasUserVerification: false });
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  await useKey(page).click();
  await expect(page).toHaveURL(ACCOUNT_URL);
});

test('a prompt left until the browser gives up is said as time, not as a cancel', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  // Plugged in, never touched.
  const key = await addVirtualAuthenticator(page, { automaticPresenceSimulation: false });
  await key.importCredential(user.securityKey!.credentials[0]!);
  await shortenCeremonyTimeout(page, ROUTES.webauthnAuthenticateOptions, 3_000);
  await logIn(page, server.url, user);
  await useKey(page).click();
  await expect(keyStatus(page)).toHaveText('Touch your security key.');
  await expect(useKey(page)).toBeDisabled();
  await expect(keyStatus(page)).toHaveText('The security key did not confirm it was you in time. Press the button again and touch your key when it blinks.', {
    timeout: 15_000,
  });
  await expect(useKey(page)).toBeEnabled();
  await saveScreenshot(page, 'two-factor-key-timed-out', test.info());
});

test('a key registered to another account is refused by the browser, in the same words as a refused PIN', async ({ server, page }) => {
  const alice = await createUserIn(server, 'key');
  const bob = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(bob.securityKey!.credentials[0]!);
  await logIn(page, server.url, alice);
  const before = await historyTags(server, alice.id);
  await useKey(page).click();
  await expect(keyStatus(page)).toHaveText(NOT_CONFIRMED_AT_LOGIN);
  expect(await historyTags(server, alice.id)).toEqual(before);
});

test('the key removed in another browser mid-login: the rendered "Log in again" link, reachable by keyboard, instead of the button', async ({
  server,
  page,
  browser,
}) => {
  const user = await createUserIn(server, 'totp+key+recovery');
  const key = await addVirtualAuthenticator(page);
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  // Rendered by the server, hidden until needed (before: the script built the link itself).
  await expect(page.locator('#webauthn-restart')).toBeHidden();

  const elsewhere = await browser.newContext();
  try {
    const other = await elsewhere.newPage();
    await logIn(other, server.url, user);
    await other.locator(`input[name="${FIELDS.totpValue}"]`).fill(currentTotp(user.totpSecret!));
    await other.getByRole('button', { name: 'Verify' }).click();
    await expect(other).toHaveURL(ACCOUNT_URL);
    await other.goto(`${server.url}${ROUTES.webauthnProvision}`);
    const row = other.locator('#webauthn-key-list').getByRole('row', { name: /Test key/ });
    await row.locator('summary', { hasText: 'Remove' }).click();
    await row.getByLabel('Confirm with your password').fill(user.password);
    await row.getByRole('button', { name: 'Remove “Test key”' }).click();
    await expect(other.getByText(`Security key “${isolate('Test key')}” removed.`)).toBeVisible();
  } finally {
    await elsewhere.close();
  }

  await useKey(page).click();
  await expect(keyStatus(page)).toHaveText('Your account’s security settings changed since you entered your password. Please log in again.');
  await expect(keyStatus(page)).toBeFocused();
  await expect(useKey(page)).toBeHidden();
  const again = page.locator('#webauthn-restart').getByRole('link', { name: 'Log in again' });
  await expect(again).toBeVisible();
  await expect(again).toHaveAttribute('href', ROUTES.login);
  await saveScreenshot(page, 'two-factor-key-removed-meanwhile', test.info());
  await page.keyboard.press('Tab');
  await expect(again).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`${ROUTES.login}$`));
});

test('two tabs of one login, the key touched in each: one logs in, the other says why; no failed second factor recorded', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  const credential = user.securityKey!.credentials[0]!;
  const first = await addVirtualAuthenticator(page);
  await first.importCredential(credential);
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  const second = await page.context().newPage();
  // One physical key answers the second tab with a higher count (two virtual keys stand in for it).
  const secondKey = await addVirtualAuthenticator(second);
  await secondKey.importCredential({ ...credential, signCount: 50 });
  await second.goto(page.url());

  await Promise.all([useKey(page).click(), useKey(second).click()]);
  const tabs = [page, second];
  await expect.poll(async () => tabs.filter((tab) => ACCOUNT_URL.test(tab.url())).length, { timeout: 15_000 }).toBe(1);
  const other = tabs.find((tab) => !ACCOUNT_URL.test(tab.url()))!;
  // Before: "This security-key answer was already used." (it was not) and a failed second factor, mailed.
  // Which words depend on when its requests arrive: after the login, the session (and its CSRF token) changed, which
  // is said as what happened (routes/session.ts), no longer as a form that "did not come from this site".
  await expect(keyStatus(other)).toHaveText(
    /This login link has already been used|answered another request at the same moment|This login was finished in another tab or window/,
  );
  await saveScreenshot(other, 'two-factor-key-second-tab', test.info());
  // Reloading, as the message says, shows where the tab stands.
  await other.reload();
  await expect(other.getByRole('heading', { name: 'Already logged in' })).toBeVisible();
  expect(await historyTags(server, user.id)).not.toContain('account:two_factor:failure');
});

test('pressing the button twice starts one ceremony', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page, { automaticPresenceSimulation: false });
  await key.importCredential(user.securityKey!.credentials[0]!);
  await logIn(page, server.url, user);
  const optionsRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes(ROUTES.webauthnAuthenticateOptions)) optionsRequests.push(request.url());
  });
  await useKey(page).dblclick();
  await expect(keyStatus(page)).toHaveText('Touch your security key.');
  await expect(useKey(page)).toBeDisabled();
  // Busy by aria-disabled, not `disabled`, which dropped the focus to <body> while the browser's prompt waited.
  await expect(useKey(page)).toHaveAttribute('aria-disabled', 'true');
  await expect(useKey(page)).toBeFocused();
  expect(optionsRequests).toHaveLength(1);
  await saveScreenshot(page, 'two-factor-key-waiting', test.info());
});

test('keyboard only: Tab to "Use security key", Enter, in; progress is announced in a polite live region', async ({ server, page }) => {
  const user = await createUserIn(server, 'key');
  const key = await addVirtualAuthenticator(page, { automaticPresenceSimulation: false });
  await key.importCredential(user.securityKey!.credentials[0]!);
  await shortenCeremonyTimeout(page, ROUTES.webauthnAuthenticateOptions, 3_000);
  await logIn(page, server.url, user);
  await expect(keyStatus(page)).toHaveAttribute('role', 'status');
  await expect(keyStatus(page)).toHaveAttribute('aria-live', 'polite');
  await expect(useKey(page)).toBeEnabled();
  // A page that offers only a key gives it the focus on arrival: Enter alone starts the ceremony.
  await expect(useKey(page)).toBeFocused();
  for (let presses = 0; presses < 10 && !(await useKey(page).evaluate((button) => button === document.activeElement)); presses++) {
    await page.keyboard.press('Tab');
  }
  await expect(useKey(page)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(keyStatus(page)).toHaveText('Touch your security key.');
  // The focus stays on the button while the prompt waits (it fell to <body> when the button was `disabled`).
  await expect(useKey(page)).toBeFocused();
  expect(await page.locator('main').ariaSnapshot()).toContain('- status: Touch your security key.');
  // No touch: the message takes focus, and the button is the next stop.
  await expect(keyStatus(page)).toHaveText(/did not confirm it was you in time/, { timeout: 15_000 });
  await expect(keyStatus(page)).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(useKey(page)).toBeFocused();
  await key.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: key.authenticatorId, enabled: true });
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(ACCOUNT_URL);
});

test('without JavaScript both key pages say a security key needs it, and offer no button that does nothing', async ({ server, browser }) => {
  const user = await createUserIn(server, 'totp+key+recovery');
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await logIn(page, server.url, user);
    await expect(page).toHaveURL(TWO_FACTOR_URL);
    // (getByText skips anything inside <noscript>; the paragraph itself is found and checked.)
    await expect(page.locator('#webauthn-auth-form p.hint')).toHaveText(/^Using a security key needs JavaScript/);
    await expect(page.locator('#webauthn-auth-form p.hint')).toBeVisible();
    await expect(useKey(page)).toBeDisabled();
    await saveScreenshot(page, 'two-factor-no-javascript', test.info());
    await page.locator(`input[name="${FIELDS.totpValue}"]`).fill(currentTotp(user.totpSecret!));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(ACCOUNT_URL);
    await page.goto(`${server.url}${ROUTES.webauthnProvision}`);
    await expect(page.locator('#webauthn-provision-form p.hint').last()).toHaveText(/^Adding a security key needs JavaScript/);
    await expect(page.locator('#webauthn-provision-form p.hint').last()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Add security key' })).toBeDisabled();
    // The password field is in the page (the script only shows it), hidden inside the 5 minutes.
    await expect(page.locator('#webauthn-provision-reauth input[name="password"]')).toBeHidden();
    await saveScreenshot(page, 'security-keys-no-javascript', test.info());
  } finally {
    await context.close();
  }
});
