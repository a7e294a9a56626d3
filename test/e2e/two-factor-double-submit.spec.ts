import { FIELDS, ROUTES } from '@latchkey/shared';
import type { Page } from 'playwright-core';
import { expect, test } from '../src/kit/fixtures.js';
import { type CreatedUser, createUserIn, currentTotp, type TestServer } from '../src/kit/index.js';
import { ACCOUNT_URL, logIn, TWO_FACTOR_URL } from './journey-helpers.js';

// A second submission of the second step's form while the first is on its way: a double-click on
// Verify, or the extension's auto-submit followed by an Enter. The browser aborts the first request
// (whose answer carried the new session's cookie) and shows the answer to the second, which the
// server can only refuse: the code and the two-factor token are used up. So the page sends the form
// once (server/static/submit-once.js). The server's side of a duplicate (no failure counted) is tested
// on both databases in server/src/routes/two-factor-double-submit.test.ts; like the other journeys of
// browser behaviour, these run on SQLite only (test/e2e/projects.ts).

/**
 * Answers take 400 ms to come back, as over a real network: on loopback the first answer would arrive
 * before the second click and hide the problem. Returns the second-step posts the page sends.
 */
async function slowNetwork(page: Page): Promise<{ posts: string[]; restore(): Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  const conditions = (latency: number) => ({ offline: false, latency, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.send('Network.emulateNetworkConditions', conditions(400));
  const posts: string[] = [];
  const secondStep: string[] = [ROUTES.twoFactor, ROUTES.recoveryCode];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === 'POST' && secondStep.includes(path)) posts.push(path);
  });
  return { posts, restore: () => cdp.send('Network.emulateNetworkConditions', conditions(0)).then(() => undefined) };
}

/** Logged in on the account page, nothing refused; the security history shows the login and no failed second factor. */
async function expectLoggedInOnce(page: Page, server: TestServer, user: CreatedUser, method: 'totp' | 'recovery_code'): Promise<void> {
  await expect(page).toHaveURL(ACCOUNT_URL);
  await expect(page.getByRole('heading', { name: 'Account security', level: 1 })).toBeVisible();
  await expect(page.getByText(/already been used|Log in again|Form expired/)).toHaveCount(0);
  await page.goto(`${server.url}${ROUTES.securityHistory}`);
  const history = page.getByRole('main');
  await expect(history.getByText(/^Logged in/).first()).toBeVisible();
  await expect(history.getByText(/Failed second factor/)).toHaveCount(0);
  const events = await server.services.events.list(user.id);
  expect(events.filter((event) => event.tag === 'account:login:success').map((event) => event.details)).toEqual([{ method }]);
  expect(events.map((event) => event.tag)).not.toContain('account:two_factor:failure');
  // Nothing was taken from the year's guessing budget either.
  expect(await server.services.db.selectFrom('totp_guesses').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
}

test('double-clicking Verify with the right code: logged in, no error shown, no failed second factor in the security history', async ({ page, server }) => {
  const user = await createUserIn(server, 'totp');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  const network = await slowNetwork(page);
  await page.getByLabel('Enter the 6-digit code from your authentication app').fill(currentTotp(user.totpSecret!));
  // Two clicks 50 ms apart, each a press and a release: the second lands while the first post is on its way.
  await page.getByRole('button', { name: 'Verify' }).dblclick({ delay: 50 });
  await expect(page).toHaveURL(ACCOUNT_URL);
  await network.restore();
  expect(network.posts).toEqual([ROUTES.twoFactor]);
  await expectLoggedInOnce(page, server, user, 'totp');
});

test('the extension’s auto-submit followed by an Enter in the code field: sent once, logged in', async ({ page, server }) => {
  const user = await createUserIn(server, 'totp');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  const network = await slowNetwork(page);
  const field = page.locator(`input[name="${FIELDS.totpValue}"]`);
  await field.fill(currentTotp(user.totpSecret!));
  // What the extension's fill does when auto-submit is on (extension/src/content/page-functions.ts).
  await field.evaluate((input: HTMLInputElement) => input.form?.requestSubmit());
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(ACCOUNT_URL);
  await network.restore();
  expect(network.posts).toEqual([ROUTES.twoFactor]);
  await expectLoggedInOnce(page, server, user, 'totp');
});

test('double-clicking Verify with a recovery code: logged in with the code spent once, no failed second factor', async ({ page, server }) => {
  const user = await createUserIn(server, 'totp+key+recovery');
  await logIn(page, server.url, user);
  await expect(page).toHaveURL(TWO_FACTOR_URL);
  await page.getByRole('link', { name: 'Log in with a recovery code' }).click();
  const network = await slowNetwork(page);
  await page.getByLabel('Recovery code', { exact: true }).fill(user.recoveryCodes![0]!);
  await page.getByRole('button', { name: 'Verify' }).dblclick({ delay: 50 });
  await expect(page).toHaveURL(ACCOUNT_URL);
  await network.restore();
  expect(network.posts).toEqual([ROUTES.recoveryCode]);
  await expect(page.getByText(/You logged in with a recovery code; it cannot be used again\. 7 recovery codes left\./)).toBeVisible();
  await expectLoggedInOnce(page, server, user, 'recovery_code');
});
